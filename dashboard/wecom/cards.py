"""WeCom template_card engine: applies the rule table of card_rules.py (PROTOCOL.md section 3).

validate() walks the table with one generic checker and the cross-field rules named per card type
in card_rules.CROSS_RULES; limits() and ERRCODE_FIELDS are derived from the same table, and
json_schema() (card_schema.py) too, so the designer, the API and the schema file cannot disagree.
This module is the public API: the table's names are re-exported here.

Messages are English; each CardError also carries its message template (an English message id
marked with N_ for `pybabel extract`) and the values it names, so the web layer can say it in
the page's language (dashboard/cards/messages.py); this library has no Flask.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .card_rules import (BLOCKS, BLOCKS_BY_TYPE, CARD_TYPES, CROSS_RULES, ID_BYTES, KEY_BYTES,
                         N_, PURPOSES, Spec, card_fields, severity)
from .card_schema import json_schema

__all__ = ["BLOCKS_BY_TYPE", "CARD_TYPES", "ERRCODE_FIELDS", "FIELD_LABELS", "ID_BYTES",
           "KEY_BYTES", "PURPOSES", "CardError", "N_", "Spec", "check", "is_unicode", "json_schema",
           "limits", "validate", "warnings"]


@dataclass(frozen=True)
class CardError:
    """One problem with a card, at a path relative to the card ("" for the card itself).

    ``message`` is English, ``template.format(**params)``; ``template`` is its message id (with
    ``{placeholders}``) and ``params`` the values. Two of them are English words a translation
    translates too: ``label``, the field's label (its message id is FIELD_LABELS[label]), and
    ``chars``, the characters a pattern allows (a message id itself). Neither template nor
    params takes part in equality. ``severity`` is "error" (WeCom refuses the card) or "warning"
    (WeCom truncates or falls back; the card stays usable): validate() gives errors only,
    warnings() the rest.
    """

    path: str
    message: str
    code: int | None = None
    template: str = field(default="", compare=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    severity: str = field(default="error", compare=False)


def _error(path: str, template: str, code: int | None = None, **params: Any) -> CardError:
    """A CardError whose message is the template filled in with params."""
    return CardError(path, template.format(**params), code, template, params)


def _warning(path: str, template: str, code: int | None = None, **params: Any) -> CardError:
    """A problem WeCom does not refuse (it truncates or falls back): reported by warnings()."""
    return CardError(path, template.format(**params), code, template, params, "warning")


# --- checker ------------------------------------------------------------------------------------

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "int": (int,), "bool": (bool,), "float": (int, float),
    "object": (dict,), "list": (list,)}
# A whole sentence per type, so that a translation need not glue a phrase into one.
_TYPE_MESSAGES = {
    "string": N_("{label} must be text (a JSON string). Change it."),
    "int": N_("{label} must be a whole number. Change it."),
    "bool": N_("{label} must be true or false. Change it."),
    "float": N_("{label} must be a number. Change it."),
    "object": N_("{label} must be an object ({{...}}). Change it."),
    "list": N_("{label} must be a list ([...]). Change it."),
}


def _nbytes(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))


_SURROGATE = re.compile("[\ud800-\udfff]")


def is_unicode(text: str) -> bool:
    """False for text with a lone surrogate ("\\ud800" in JSON): it has no UTF-8, so WeCom cannot get it."""
    return _SURROGATE.search(text) is None


def _words(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


# Each rule: (value, spec) -> (message template, its params besides label) when broken, else None.
_Broken = tuple[str, dict[str, Any]] | None
_RULES: dict[str, Callable[[Any, Spec], _Broken]] = {
    "enum": lambda v, s: None if v in s["enum"] else (
        N_("{label} must be one of {allowed}, not {value}. Choose one of those."),
        {"allowed": _words(s["enum"]), "value": repr(v)}),
    "max_chars": lambda v, s: None if len(v) <= s["max_chars"] else (
        N_("{label} is {n} characters; WeCom shows at most {max}. Shorten it."),
        {"n": len(v), "max": s["max_chars"]}),
    "max_bytes": lambda v, s: None if _nbytes(v) <= s["max_bytes"] else (
        N_("{label} is {n} bytes in UTF-8; WeCom accepts at most {max}. Shorten it."),
        {"n": _nbytes(v), "max": s["max_bytes"]}),
    "pattern": lambda v, s: None if re.fullmatch(s["pattern"], v) else (
        N_("{label} may only use {chars}. Remove the other characters."),
        {"chars": s["pattern_words"]}),
    "min": lambda v, s: None if v >= s["min"] else (
        N_("{label} is {value}; it must be at least {min}. Change it."),
        {"value": v, "min": s["min"]}),
    "max_exclusive": lambda v, s: None if v < s["max_exclusive"] else (
        N_("{label} is {value}; it must be less than {max}. Change it."),
        {"value": v, "max": s["max_exclusive"]}),
    "min_items": lambda v, s: None if len(v) >= s["min_items"] else (
        N_("{label} has {n} items; at least {min} needed. Add {missing}."),
        {"n": len(v), "min": s["min_items"], "missing": s["min_items"] - len(v)}),
    "max_items": lambda v, s: None if len(v) <= s["max_items"] else (
        N_("{label} has {n} items; WeCom allows at most {max}. Remove {extra}."),
        {"n": len(v), "max": s["max_items"], "extra": len(v) - s["max_items"]}),
}


# A warning row says what WeCom does instead of refusing; rules without one here keep their
# error sentence (a warning row's other limits are stated the same way either way).
_WARNING_TEMPLATES = {
    "max_chars": N_("{label} is {n} characters; WeCom recommends at most {max} and may cut the "
                    "rest. Shorten it if it must be read in full."),
    "enum": N_("{label} is {value}, not one of {allowed}; WeCom shows {default} instead. Choose "
               "one of those to be sure."),
}


def _label(path: str) -> str:
    """The field's English label ("Main title"), from the last key of its path."""
    name = re.sub(r"\[\d+\]$", "", path.rsplit(".", 1)[-1])
    return name.replace("_", " ").capitalize()


# The message id of every label _label() gives a field of the rule table: the label with the
# field's key, a distinct id so that a page's own "Type" or "Text" keeps its own translation
# (and the translator sees which field it is). FIELD_LABELS maps the English label, and its
# lower-case form ("Each button list item ..."), to it; a test walks the table to prove none is
# missing: a new field name in card_rules.py adds its line here.
_LABEL_IDS = (
    N_("Action list (action_list)"), N_("Action menu (action_menu)"), N_("Appid (appid)"),
    N_("Aspect ratio (aspect_ratio)"), N_("Button list (button_list)"),
    N_("Button selection (button_selection)"), N_("Card action (card_action)"),
    N_("Card image (card_image)"), N_("Card type (card_type)"), N_("Checkbox (checkbox)"),
    N_("Desc (desc)"), N_("Desc color (desc_color)"), N_("Disable (disable)"),
    N_("Emphasis content (emphasis_content)"),
    N_("Horizontal content list (horizontal_content_list)"), N_("Icon url (icon_url)"),
    N_("Id (id)"), N_("Image text area (image_text_area)"), N_("Image url (image_url)"),
    N_("Is checked (is_checked)"), N_("Jump list (jump_list)"), N_("Key (key)"),
    N_("Keyname (keyname)"), N_("Main title (main_title)"), N_("Media id (media_id)"),
    N_("Mode (mode)"), N_("Option list (option_list)"), N_("Pagepath (pagepath)"),
    N_("Question key (question_key)"), N_("Quote area (quote_area)"),
    N_("Quote text (quote_text)"), N_("Replace text (replace_text)"),
    N_("Select list (select_list)"), N_("Selected id (selected_id)"), N_("Source (source)"),
    N_("Style (style)"), N_("Sub title text (sub_title_text)"),
    N_("Submit button (submit_button)"), N_("Task id (task_id)"), N_("Text (text)"),
    N_("Title (title)"), N_("Type (type)"), N_("Url (url)"), N_("Userid (userid)"),
    N_("Value (value)"), N_("Vertical content list (vertical_content_list)"),
)
FIELD_LABELS: dict[str, str] = {
    form: label_id for label_id in _LABEL_IDS
    for label in [label_id.rsplit(" (", 1)[0]] for form in (label, label.lower())}
"""English field label ("Main title", "button list") -> message id ("Main title (main_title)")."""

# "{label} is required" and its conditions, each a whole sentence: [when type is ..][on a card].
_REQUIRED = {
    (False, False): N_("{label} is required. Add it."),
    (True, False): N_("{label} is required when type is {types}. Add it."),
    (False, True): N_("{label} is required on a {card_type} card. Add it."),
    (True, True): N_("{label} is required when type is {types} on a {card_type} card. Add it."),
}


def _required(spec: Spec, obj: dict, fields: dict[str, Spec]) -> list[Any] | bool:
    """True when required, the matching required_if values when conditionally so, else False."""
    for sibling, values in spec.get("required_if", {}).items():
        if obj.get(sibling, fields[sibling].get("default")) in values:
            return values
    return bool(spec.get("required"))


def _check_object(obj: dict, fields: dict[str, Spec], path: str, ctx: dict, errors: list) -> None:
    prefix = f"{path}." if path else ""
    for name in obj:
        if name in fields:
            continue
        if not path and name in BLOCKS:
            errors.append(_error(prefix + name, N_("{name} is not allowed on a {card_type} card. "
                                                   "Remove it."),
                                 name=name, card_type=ctx["card_type"]))
        else:
            errors.append(_error(prefix + name, N_(
                "Unknown field “{name}”: WeCom does not accept it here. Remove it."), name=name))
    for name, spec in fields.items():
        p, value = prefix + name, obj.get(name)
        if name in obj and spec.get("update_only") and not ctx["for_update"]:
            errors.append(_error(p, N_("{name} is only allowed when updating a sent card. "
                                       "Remove it."), name=name))
        elif name not in obj or (value == "" and spec["type"] == "string"):
            need = _required(spec, obj, fields)
            if need:
                when, where = isinstance(need, list), not path
                params = {"types": _words(need)} if when else {}
                params.update({"card_type": ctx["card_type"]} if where else {})
                errors.append(_error(p, _REQUIRED[when, where], spec.get("code"),
                                     label=_label(p), **params))
        else:
            _check_value(value, spec, p, ctx, errors)


def _check_value(value: Any, spec: Spec, path: str, ctx: dict, errors: list) -> None:
    type_, code = spec["type"], spec.get("code")
    if isinstance(value, bool) != (type_ == "bool") or not isinstance(value, _PY_TYPES[type_]):
        errors.append(_error(path, _TYPE_MESSAGES[type_], code, label=_label(path)))
        return
    if type_ == "string" and not is_unicode(value):
        errors.append(_error(path, N_("{label} holds a lone surrogate, which is not text. "
                                      "Remove it."), code, label=_label(path)))
        return
    warn = severity(spec) == "warning"
    for rule, check in _RULES.items():
        if rule in spec and (broken := check(value, spec)):
            template, params = broken
            if warn:
                template = _WARNING_TEMPLATES.get(rule, template)
                params = {**params, "default": spec.get("default")} if rule == "enum" else params
            make = _warning if warn else _error
            errors.append(make(path, template, code, label=_label(path), **params))
    if type_ == "object":
        _check_object(value, spec["fields"], path, ctx, errors)
    elif type_ == "list":
        for i, item in enumerate(value):
            if isinstance(item, dict):
                _check_object(item, spec["fields"], f"{path}[{i}]", ctx, errors)
            else:
                errors.append(_error(f"{path}[{i}]", N_("Each {label} item must be an object "
                                                        "({{...}}). Change it."),
                                     code, label=_label(path).lower()))
        _check_unique(value, spec["fields"], path, errors)


def _check_unique(items: list, fields: dict[str, Spec], path: str, errors: list) -> None:
    for name, spec in fields.items():
        if not spec.get("unique"):
            continue
        make = _warning if severity(spec) == "warning" else _error
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            value = item.get(name) if isinstance(item, dict) else None
            if not isinstance(value, str) or not value:
                continue
            if value in seen:
                errors.append(make(
                    f"{path}[{i}].{name}", N_("{label} “{value}” is already used by {other}. "
                                              "Make each one unique."),
                    spec.get("dup_code", spec.get("code")), label=_label(name), value=value,
                    other=f"{path}[{seen[value]}]"))
            else:
                seen[value] = i


# --- cross-field rules --------------------------------------------------------------------------

def _present(obj: Any, key: str) -> bool:
    return isinstance(obj, dict) and obj.get(key) not in (None, "")


def _title_or_subtitle(card: dict, ctx: dict) -> list[CardError]:
    if _present(card.get("main_title"), "title") or _present(card, "sub_title_text"):
        return []
    return [_error("main_title.title", N_("A text_notice card needs a main title or a "
                                          "sub_title_text. Add one of them."))]


def _image_or_text_area(card: dict, ctx: dict) -> list[CardError]:
    if _present(card, "card_image") or _present(card, "image_text_area"):
        return []
    return [_error("card_image", N_("A news_notice card needs a card_image or an "
                                    "image_text_area. Add one of them."))]


def _task_id_for_menu(card: dict, ctx: dict) -> list[CardError]:
    if not ctx["task_id"] or "action_menu" not in card or _present(card, "task_id"):
        return []
    return [_error("task_id", N_("A card with an action_menu needs a task_id (letters, digits, "
                                 "_, - and @, at most 128 bytes). Add one."),
                   BLOCKS["task_id"]["code"])]


def _selected_ids(card: dict, ctx: dict) -> list[CardError]:
    """A selected_id that is not an option: WeCom selects the first option instead (SEND_DOC)."""
    blocks = [("button_selection", card.get("button_selection"))]
    if isinstance(card.get("select_list"), list):
        blocks += [(f"select_list[{i}]", s) for i, s in enumerate(card["select_list"])]
    errors = []
    for path, block in blocks:
        if not _present(block, "selected_id") or not isinstance(block.get("option_list"), list):
            continue
        ids = [o.get("id") for o in block["option_list"] if isinstance(o, dict)]
        if block["selected_id"] not in ids:
            errors.append(_warning(f"{path}.selected_id", N_(
                "Selected id “{id}” is not one of the option ids; WeCom selects the first option "
                "instead. Choose an existing id."), id=block["selected_id"]))
    return errors


def _single_choice(card: dict, ctx: dict) -> list[CardError]:
    box = card.get("checkbox")
    if not isinstance(box, dict) or box.get("mode", 0) != 0 or not isinstance(
            box.get("option_list"), list):
        return []
    checked = [i for i, o in enumerate(box["option_list"])
               if isinstance(o, dict) and o.get("is_checked") is True]
    return [_error(f"checkbox.option_list[{i}].is_checked", N_(
        "A single-choice vote (mode 0) can pre-select only one option. Untick this one or set "
        "mode to 1.")) for i in checked[1:]]


# The names card_rules.CROSS_RULES uses, so which rules apply to a card type is a table edit.
_CROSS_CHECKS: dict[str, Callable[[dict, dict], list[CardError]]] = {
    "title_or_subtitle": _title_or_subtitle, "image_or_text_area": _image_or_text_area,
    "task_id_for_menu": _task_id_for_menu, "selected_ids": _selected_ids,
    "single_choice": _single_choice,
}


# --- public API ---------------------------------------------------------------------------------

def _purpose(purpose: str, for_update: bool) -> str:
    """The purpose asked for; for_update=True is the older spelling of purpose="update"."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {_words(list(PURPOSES))}, not {purpose!r}")
    return "update" if for_update and purpose == "send" else purpose


def check(template_card: dict, *, purpose: str = "send", for_update: bool = False,
          require_task_id: bool = True) -> list[CardError]:
    """Every problem, errors and warnings (each with its severity), in card order then
    cross-field rules; validate() and warnings() each keep one kind. Same parameters as
    validate()."""
    if not isinstance(template_card, dict):
        return [_error("", N_("The card must be a JSON object ({{...}}) with a card_type. "
                              "Change it."))]
    card_type = template_card.get("card_type")
    if card_type in (None, ""):
        return [_error("card_type", N_("card_type is missing. Use one of {types}."), 42031,
                       types=_words(CARD_TYPES))]
    if card_type not in CARD_TYPES:
        return [_error("card_type", N_("card_type “{value}” is not a card type. Use one of "
                                       "{types}."), 42031, value=card_type,
                       types=_words(CARD_TYPES))]
    purpose = _purpose(purpose, for_update)
    sent = purpose == "send"
    ctx = {"card_type": card_type, "for_update": not sent, "task_id": require_task_id and sent}
    problems: list[CardError] = []
    fields = card_fields(card_type, task_id_required=ctx["task_id"], purpose=purpose)
    _check_object(template_card, fields, "", ctx, problems)
    for rule in CROSS_RULES[card_type]:
        problems.extend(_CROSS_CHECKS[rule](template_card, ctx))
    return problems


def validate(template_card: dict, *, purpose: str = "send", for_update: bool = False,
             require_task_id: bool = True) -> list[CardError]:
    """Check a template_card against every documented WeCom rule; [] when WeCom accepts it.

    Only errors (what WeCom refuses): callers rely on it. What WeCom truncates or falls back
    from is in warnings().

    :param template_card: the ``template_card`` object (not the whole send body).
    :param purpose: "send" (message/send), "update" (update_template_card's card: update-only
        fields such as replace_text and *.disable allowed, no task_id, submit_button optional on
        vote and multiple-choice cards) or "reply" (a passive reply's card: as an update, with
        1-10 action_menu actions).
    :param for_update: True is the older spelling of ``purpose="update"``.
    :param require_task_id: False for designer drafts, whose task_id the sender assigns.
    :return: every error found, in card order then cross-field rules; a bad or missing
        card_type gives that single error (42031).
    :raises ValueError: an unknown purpose.
    """
    return [p for p in check(template_card, purpose=purpose, for_update=for_update,
                             require_task_id=require_task_id) if p.severity == "error"]


def warnings(template_card: dict, *, purpose: str = "send", for_update: bool = False,
             require_task_id: bool = True) -> list[CardError]:
    """What WeCom accepts but shows otherwise: a text over its recommended length (truncated), a
    selected_id that is not an option (the first is selected), a button style outside 1-4 (style
    1). Each a CardError with severity "warning", in card order; same parameters as validate()."""
    return [p for p in check(template_card, purpose=purpose, for_update=for_update,
                             require_task_id=require_task_id) if p.severity == "warning"]


def _walk(fields: dict[str, Spec], prefix: str = "") -> Iterator[tuple[str, Spec]]:
    """Every field with its path pattern, so the derived views list nested fields too."""
    for name, spec in fields.items():
        yield prefix + name, spec
        if "fields" in spec:
            sep = "[]." if spec["type"] == "list" else "."
            yield from _walk(spec["fields"], prefix + name + sep)


_NOT_LIMITS = ("fields", "name", "source", "severity")  # structure and documentation, not rules


def limits() -> dict[str, dict[str, dict[str, Any]]]:
    """Per card type, per field path pattern ("button_list[].key"), the rules the validator uses.

    Shape: ``{card_type: {path: {"type": ..., "required": bool?, "max_chars": int?,
    "max_bytes": int?, "min_items": int?, "max_items": int?, "enum": [...]?, "default": ...?,
    "required_if": {"type": [1]}?, "pattern": str?, "unique": bool?, "update_only": bool?,
    "min": float?, "max_exclusive": float?, "code": int?}}}``. JSON-serializable; a fresh copy.
    """
    return json.loads(json.dumps({
        card_type: {path: {k: v for k, v in spec.items() if k not in _NOT_LIMITS}
                    for path, spec in _walk(card_fields(card_type))}
        for card_type in CARD_TYPES}))


def _errcode_fields() -> dict[int, str]:
    paths: dict[int, set[str]] = {}
    for card_type in CARD_TYPES:
        for path, spec in _walk(card_fields(card_type)):
            for key in ("code", "dup_code"):
                if key in spec:
                    paths.setdefault(spec[key], set()).add(path)
    return {code: ", ".join(sorted(found)) for code, found in sorted(paths.items())}


ERRCODE_FIELDS: dict[int, str] = _errcode_fields()
"""WeCom errcode -> the field path(s) it concerns (", "-joined when several; PROTOCOL 3.6)."""


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2))
