"""The app's custom menu (自定义菜单, WeCom docs 90231-90233): its limits, its checks and its body.

menu_problems() finds every problem of a menu at its path (``button[1].sub_button[0].name``), as
the card validator does: an English message, WeCom's errcode for it where WeCom has one (else
None, for the product's own rules) and the message's template (marked with N_ for `pybabel
extract`) with its values, so the web layer can say it in the page's language. menu_body() is
the one payload builder: the JSON the preview shows is the JSON menu/create receives.

Names, keys and urls are measured in UTF-8 bytes, as WeCom counts them: a CJK character is 3.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .card_rules import N_
from .cards import is_unicode

__all__ = ["BUTTON_TYPES", "KEY_TYPES", "MENU_LIMITS", "URL_BYTES", "MenuProblem", "menu_body",
           "menu_problems"]

#: The button types of doc 90231 (no media_id / view_limited: those are Official Account types).
BUTTON_TYPES = ("click", "view", "view_miniprogram", "scancode_push", "scancode_waitmsg",
                "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select")
#: The types whose key WeCom pushes to the callback (EventKey): for them a key is required.
KEY_TYPES = frozenset(BUTTON_TYPES) - {"view", "view_miniprogram"}

#: A url's limit. The 企业号-era WeCom doc said 256 bytes; the Official Account doc, a 2021 copy of
#: doc 90231 and the errcode page (40020, 40027) say 1024. CONVERSATIONS §4 marks it uncertain
#: for WeCom, so the stricter reading is taken: 256.
URL_BYTES = 256

#: WeCom's limits (doc 90231, CONVERSATIONS §4), for the editor to show at each field.
MENU_LIMITS: dict[str, int] = {
    "min_buttons": 1, "max_buttons": 3,  # 40016
    "min_sub_buttons": 1, "max_sub_buttons": 5,  # 40023
    "name_bytes": 16,  # a top-level button's name (40018)
    "sub_name_bytes": 40,  # a sub-button's name (40025)
    "key_bytes": 128,  # 40019, 40026
    "url_bytes": URL_BYTES,  # 40020, 40027
}

# WeCom's errcode for a problem with a field: (on a top-level button, on a sub-button).
_CODES = {"type": (40017, 40024), "name": (40018, 40025), "key": (40019, 40026),
          "url": (40020, 40027), "url_domain": (40055, 40054)}
_URL = re.compile(r"https?://[^\s/?#]+\S*", re.IGNORECASE)

MENU_NOT_OBJECT = N_("The menu must be an object ({{...}}) with a button list.")
NOT_A_LIST = N_("{field} must be a list ([...]). Change it.")
NOT_AN_OBJECT = N_("Each button must be an object ({{...}}). Change it.")
NOT_TEXT = N_("{field} must be text (a JSON string). Change it.")
LONE_SURROGATE = N_("{field} holds a lone surrogate, which is not text. Remove it.")
BUTTON_COUNT = N_("The menu has {n} buttons; WeCom allows {min} to {max}.")
SUB_BUTTON_COUNT = N_("This button has {n} sub-buttons; WeCom allows {min} to {max}.")
TOO_DEEP = N_("A sub-button cannot have sub-buttons of its own: WeCom menus have two levels.")
GROUP_TYPE = N_("A button with sub-buttons has no type of its own. "
                "Remove the type or the sub-buttons.")
NAME_REQUIRED = N_("Every button needs a name. Add it.")
NAME_TOO_LONG = N_("The name is {n} bytes in UTF-8; WeCom allows at most {max} here. Shorten it.")
TYPE_REQUIRED = N_("A button without sub-buttons needs a type. Choose one.")
TYPE_UNKNOWN = N_("{value} is not a WeCom button type. Choose one of {allowed}.")
KEY_REQUIRED = N_("A {type} button needs a key. Add it.")
KEY_TOO_LONG = N_("The key is {n} bytes in UTF-8; WeCom allows at most {max}. Shorten it.")
KEY_TAKEN = N_("The key {value} is already used by {other}; each key must be different. "
               "Change it.")
URL_REQUIRED = N_("A {type} button needs a url. Add it.")
URL_TOO_LONG = N_("The url is {n} bytes in UTF-8; at most {max} are allowed. Shorten it.")
URL_SCHEME = N_("The url must start with http:// or https://. Change it.")
APPID_REQUIRED = N_("A view_miniprogram button needs the appid of a mini program bound to your "
                    "company. Add it.")
PAGEPATH_REQUIRED = N_("A view_miniprogram button needs the page path of the mini program. "
                       "Add it.")


@dataclass(frozen=True)
class MenuProblem:
    """One problem with a menu, at a path relative to the menu ("" for the menu itself).

    ``message`` is English, ``template.format(**params)``; ``code`` is WeCom's errcode for it,
    None for the product's own rules (unique keys, a view_miniprogram's appid, pagepath and url).
    Neither template nor params takes part in equality; no param needs translating.
    """

    path: str
    message: str
    code: int | None = None
    template: str = field(default="", compare=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False)


def _problem(path: str, template: str, code: int | None = None, **params: Any) -> MenuProblem:
    return MenuProblem(path, template.format(**params), code, template, params)


def _code(name: str, sub: bool) -> int:
    return _CODES[name][sub]


def _nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _is_group(button: dict) -> bool:
    """A button opening sub-buttons; a leaf may carry an empty sub_button list (menu/get does)."""
    return "sub_button" in button and (bool(button["sub_button"]) or "type" not in button)


# --- the checks ---


def menu_problems(menu: dict) -> list[MenuProblem]:
    """Every problem of ``menu`` against WeCom's limits and the product's rules, in menu order.

    :param menu: ``{"button": [...]}`` as the editor or the API gives it; other keys are ignored.
    :returns: no problems for a menu menu/create should accept.
    """
    if not isinstance(menu, dict):
        return [_problem("", MENU_NOT_OBJECT)]
    buttons = menu.get("button")
    if not isinstance(buttons, list):
        return [_problem("button", NOT_A_LIST, 40016, field="button")]
    low, high = MENU_LIMITS["min_buttons"], MENU_LIMITS["max_buttons"]
    problems = [] if low <= len(buttons) <= high else [
        _problem("button", BUTTON_COUNT, 40016, n=len(buttons), min=low, max=high)]
    keys: dict[str, str] = {}  # key -> path of the button that has it
    for i, button in enumerate(buttons):
        problems += _button(button, f"button[{i}]", keys, sub=False)
    return problems


def _button(button: Any, path: str, keys: dict[str, str], sub: bool) -> list[MenuProblem]:
    if not isinstance(button, dict):
        return [_problem(path, NOT_AN_OBJECT)]
    limit = MENU_LIMITS["sub_name_bytes" if sub else "name_bytes"]
    _, problems = _text(button, "name", path, NAME_REQUIRED, _code("name", sub), limit,
                        NAME_TOO_LONG)
    if not _is_group(button):
        return problems + _leaf(button, path, keys, sub)
    if sub:
        return problems + [_problem(f"{path}.sub_button", TOO_DEEP, 40022)]
    return problems + _group(button, path, keys)


def _group(button: dict, path: str, keys: dict[str, str]) -> list[MenuProblem]:
    has_type = button.get("type") not in (None, "")
    problems = [_problem(f"{path}.type", GROUP_TYPE)] if has_type else []
    subs = button["sub_button"]
    if not isinstance(subs, list):
        return problems + [_problem(f"{path}.sub_button", NOT_A_LIST, 40023, field="sub_button")]
    low, high = MENU_LIMITS["min_sub_buttons"], MENU_LIMITS["max_sub_buttons"]
    if not low <= len(subs) <= high:
        problems.append(_problem(f"{path}.sub_button", SUB_BUTTON_COUNT, 40023, n=len(subs),
                                 min=low, max=high))
    for j, sub in enumerate(subs):
        problems += _button(sub, f"{path}.sub_button[{j}]", keys, sub=True)
    return problems


def _leaf(button: dict, path: str, keys: dict[str, str], sub: bool) -> list[MenuProblem]:
    type_, problems = _text(button, "type", path, TYPE_REQUIRED, _code("type", sub))
    if type_ is None:
        return problems
    if type_ not in BUTTON_TYPES:
        return [_problem(f"{path}.type", TYPE_UNKNOWN, _code("type", sub), value=type_,
                         allowed=", ".join(BUTTON_TYPES))]
    if type_ in KEY_TYPES:
        return _key(button, path, keys, sub, type_)
    problems = _url(button, path, sub, type_)
    if type_ == "view_miniprogram":
        problems += _text(button, "appid", path, APPID_REQUIRED)[1]
        problems += _text(button, "pagepath", path, PAGEPATH_REQUIRED)[1]
    return problems


def _key(button: dict, path: str, keys: dict[str, str], sub: bool, type_: str
         ) -> list[MenuProblem]:
    """The key a click (scan, picture, location) button pushes: required, short, unique."""
    key, problems = _text(button, "key", path, KEY_REQUIRED, _code("key", sub),
                          MENU_LIMITS["key_bytes"], KEY_TOO_LONG, type=type_)
    if key is None:
        return problems
    if key in keys:
        return [_problem(f"{path}.key", KEY_TAKEN, value=key, other=keys[key])]
    keys[key] = path
    return problems


def _url(button: dict, path: str, sub: bool, type_: str) -> list[MenuProblem]:
    """The page a view button opens, http(s) only. A view_miniprogram button may name one too, for
    clients without mini programs: WeCom's doc 90231 lists only appid and pagepath for it (the
    url is WeChat's requirement), so it is optional there, and checked when given (no errcode)."""
    view = type_ == "view"
    if not view and button.get("url") in (None, ""):
        return []
    blank = URL_REQUIRED if view else URL_SCHEME  # a view_miniprogram's url of spaces
    url, problems = _text(button, "url", path, blank, _code("url", sub) if view else None,
                          MENU_LIMITS["url_bytes"], URL_TOO_LONG, type=type_)
    if url is not None and not _URL.fullmatch(url):
        code = _code("url_domain", sub) if view else None
        problems.append(_problem(f"{path}.url", URL_SCHEME, code))
    return problems


def _text(button: dict, name: str, path: str, required: str, code: int | None = None,
          max_bytes: int | None = None, too_long: str = "", **params: Any
          ) -> tuple[str | None, list[MenuProblem]]:
    """``button[name]`` when it is text that WeCom can take (else None), and its problems."""
    value, where = button.get(name), f"{path}.{name}"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, [_problem(where, required, code, **params)]
    if not isinstance(value, str):
        return None, [_problem(where, NOT_TEXT, code, field=name)]
    if not is_unicode(value):
        return None, [_problem(where, LONE_SURROGATE, code, field=name)]
    if max_bytes is not None and _nbytes(value) > max_bytes:
        return value, [_problem(where, too_long, code, n=_nbytes(value), max=max_bytes)]
    return value, []


# --- the body ---

_ORDER = ("type", "name", "key", "url", "pagepath", "appid", "sub_button")
_FIELDS: dict[str, tuple[str, ...]] = {
    **{type_: ("type", "name", "key") for type_ in KEY_TYPES},
    "view": ("type", "name", "url"),
    "view_miniprogram": ("type", "name", "url", "pagepath", "appid"),
}


def menu_body(menu: dict) -> dict:
    """The exact JSON to POST to menu/create: ``{"button": [...]}``, each button with only the
    fields WeCom reads for its type, in the order of WeCom's examples, empty ones left out.

    Give it a menu without problems (menu_problems); what it cannot sort out it keeps as is,
    for WeCom to refuse.
    """
    return {"button": [_button_body(b) for b in menu.get("button") or []]}


def _button_body(button: Any) -> Any:
    if not isinstance(button, dict):
        return button
    if _is_group(button):
        subs = button["sub_button"]
        subs = [_button_body(s) for s in subs] if isinstance(subs, list) else subs
        button, fields = {**button, "sub_button": subs}, ("name", "sub_button")
    else:
        type_ = button.get("type")
        fields = _FIELDS.get(type_, _ORDER) if isinstance(type_, str) else _ORDER
    return {k: button[k] for k in _ORDER if k in fields and button.get(k) not in (None, "")}
