"""WeCom template_card engine: applies the rule table of card_rules.py (PROTOCOL.md section 3).

validate() walks the table with one generic checker and the cross-field rules named per card type
in card_rules.CROSS_RULES; limits() and ERRCODE_FIELDS are derived from the same table, and
json_schema() (card_schema.py) too, so the designer, the API and the schema file cannot disagree.
This module is the public API: the table's names are re-exported here.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .card_rules import (BLOCKS, BLOCKS_BY_TYPE, CARD_TYPES, CROSS_RULES, ID_BYTES, KEY_BYTES,
                         Spec, card_fields, severity)
from .card_schema import json_schema

__all__ = ["BLOCKS_BY_TYPE", "CARD_TYPES", "ERRCODE_FIELDS", "ID_BYTES", "KEY_BYTES", "CardError",
           "Spec", "is_unicode", "json_schema", "limits", "validate"]


@dataclass(frozen=True)
class CardError:
    """One problem with a card, at a path relative to the card ("" for the card itself)."""

    path: str
    message: str
    code: int | None = None


# --- checker ------------------------------------------------------------------------------------

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "int": (int,), "bool": (bool,), "float": (int, float),
    "object": (dict,), "list": (list,)}
_TYPE_WORDS = {"string": "text (a JSON string)", "int": "a whole number", "bool": "true or false",
               "float": "a number", "object": "an object ({...})", "list": "a list ([...])"}


def _nbytes(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))


_SURROGATE = re.compile("[\ud800-\udfff]")


def is_unicode(text: str) -> bool:
    """False for text with a lone surrogate ("\\ud800" in JSON): it has no UTF-8, so WeCom cannot get it."""
    return _SURROGATE.search(text) is None


def _words(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


# Each rule: (value, spec) -> message tail when broken, else None.
_RULES: dict[str, Callable[[Any, Spec], str | None]] = {
    "enum": lambda v, s: None if v in s["enum"] else
    f"must be one of {_words(s['enum'])}, not {v!r}. Choose one of those.",
    "max_chars": lambda v, s: None if len(v) <= s["max_chars"] else
    f"is {len(v)} characters; WeCom shows at most {s['max_chars']}. Shorten it.",
    "max_bytes": lambda v, s: None if _nbytes(v) <= s["max_bytes"] else
    f"is {_nbytes(v)} bytes in UTF-8; WeCom accepts at most {s['max_bytes']}. Shorten it.",
    "pattern": lambda v, s: None if re.fullmatch(s["pattern"], v) else
    f"may only use {s['pattern_words']}. Remove the other characters.",
    "min": lambda v, s: None if v >= s["min"] else
    f"is {v}; it must be at least {s['min']}. Change it.",
    "max_exclusive": lambda v, s: None if v < s["max_exclusive"] else
    f"is {v}; it must be less than {s['max_exclusive']}. Change it.",
    "min_items": lambda v, s: None if len(v) >= s["min_items"] else
    f"has {len(v)} items; at least {s['min_items']} needed. Add {s['min_items'] - len(v)}.",
    "max_items": lambda v, s: None if len(v) <= s["max_items"] else
    f"has {len(v)} items; WeCom allows at most {s['max_items']}. Remove {len(v) - s['max_items']}.",
}


def _label(path: str) -> str:
    name = re.sub(r"\[\d+\]$", "", path.rsplit(".", 1)[-1])
    return name.replace("_", " ").capitalize()


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
            msg = f"{name} is not allowed on a {ctx['card_type']} card. Remove it."
        else:
            msg = f"Unknown field “{name}”: WeCom does not accept it here. Remove it."
        errors.append(CardError(prefix + name, msg))
    for name, spec in fields.items():
        p, value = prefix + name, obj.get(name)
        if name in obj and spec.get("update_only") and not ctx["for_update"]:
            errors.append(CardError(p, f"{name} is only allowed when updating a sent card. "
                                       "Remove it."))
        elif name not in obj or (value == "" and spec["type"] == "string"):
            need = _required(spec, obj, fields)
            if need:
                when = f" when type is {_words(need)}" if isinstance(need, list) else ""
                where = f" on a {ctx['card_type']} card" if not path else ""
                errors.append(CardError(p, f"{_label(p)} is required{when}{where}. Add it.",
                                        spec.get("code")))
        else:
            _check_value(value, spec, p, ctx, errors)


def _check_value(value: Any, spec: Spec, path: str, ctx: dict, errors: list) -> None:
    type_, code = spec["type"], spec.get("code")
    if isinstance(value, bool) != (type_ == "bool") or not isinstance(value, _PY_TYPES[type_]):
        errors.append(CardError(path, f"{_label(path)} must be {_TYPE_WORDS[type_]}. Change it.",
                                code))
        return
    if type_ == "string" and not is_unicode(value):
        errors.append(CardError(path, f"{_label(path)} holds a lone surrogate, which is not text. "
                                "Remove it.", code))
        return
    rules = _RULES.items() if severity(spec) == "error" else ()  # a warning is not validate()'s
    for rule, check in rules:
        if rule in spec and (tail := check(value, spec)):
            errors.append(CardError(path, f"{_label(path)} {tail}", code))
    if type_ == "object":
        _check_object(value, spec["fields"], path, ctx, errors)
    elif type_ == "list":
        for i, item in enumerate(value):
            if isinstance(item, dict):
                _check_object(item, spec["fields"], f"{path}[{i}]", ctx, errors)
            else:
                errors.append(CardError(f"{path}[{i}]", f"Each {_label(path).lower()} item must "
                                        "be an object ({...}). Change it.", code))
        _check_unique(value, spec["fields"], path, errors)


def _check_unique(items: list, fields: dict[str, Spec], path: str, errors: list) -> None:
    for name, spec in fields.items():
        if not spec.get("unique") or severity(spec) != "error":
            continue
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            value = item.get(name) if isinstance(item, dict) else None
            if not isinstance(value, str) or not value:
                continue
            if value in seen:
                errors.append(CardError(
                    f"{path}[{i}].{name}", f"{_label(name)} “{value}” is already used by "
                    f"{path}[{seen[value]}]. Make each one unique.",
                    spec.get("dup_code", spec.get("code"))))
            else:
                seen[value] = i


# --- cross-field rules --------------------------------------------------------------------------

def _present(obj: Any, key: str) -> bool:
    return isinstance(obj, dict) and obj.get(key) not in (None, "")


def _title_or_subtitle(card: dict, ctx: dict) -> list[CardError]:
    if _present(card.get("main_title"), "title") or _present(card, "sub_title_text"):
        return []
    return [CardError("main_title.title", "A text_notice card needs a main title or a "
                      "sub_title_text. Add one of them.")]


def _image_or_text_area(card: dict, ctx: dict) -> list[CardError]:
    if _present(card, "card_image") or _present(card, "image_text_area"):
        return []
    return [CardError("card_image", "A news_notice card needs a card_image or an "
                      "image_text_area. Add one of them.")]


def _task_id_for_menu(card: dict, ctx: dict) -> list[CardError]:
    if not ctx["task_id"] or "action_menu" not in card or _present(card, "task_id"):
        return []
    return [CardError("task_id", "A card with an action_menu needs a task_id (letters, digits, "
                      "_, - and @, at most 128 bytes). Add one.", BLOCKS["task_id"]["code"])]


def _selected_ids(card: dict, ctx: dict) -> list[CardError]:
    blocks = [("button_selection", card.get("button_selection"))]
    if isinstance(card.get("select_list"), list):
        blocks += [(f"select_list[{i}]", s) for i, s in enumerate(card["select_list"])]
    errors = []
    for path, block in blocks:
        if not _present(block, "selected_id") or not isinstance(block.get("option_list"), list):
            continue
        ids = [o.get("id") for o in block["option_list"] if isinstance(o, dict)]
        if block["selected_id"] not in ids:
            errors.append(CardError(f"{path}.selected_id", f"Selected id “{block['selected_id']}”"
                                    " is not one of the option ids. Choose an existing id."))
    return errors


def _single_choice(card: dict, ctx: dict) -> list[CardError]:
    box = card.get("checkbox")
    if not isinstance(box, dict) or box.get("mode", 0) != 0 or not isinstance(
            box.get("option_list"), list):
        return []
    checked = [i for i, o in enumerate(box["option_list"])
               if isinstance(o, dict) and o.get("is_checked") is True]
    return [CardError(f"checkbox.option_list[{i}].is_checked", "A single-choice vote (mode 0) "
                      "can pre-select only one option. Untick this one or set mode to 1.")
            for i in checked[1:]]


# The names card_rules.CROSS_RULES uses, so which rules apply to a card type is a table edit.
_CROSS_CHECKS: dict[str, Callable[[dict, dict], list[CardError]]] = {
    "title_or_subtitle": _title_or_subtitle, "image_or_text_area": _image_or_text_area,
    "task_id_for_menu": _task_id_for_menu, "selected_ids": _selected_ids,
    "single_choice": _single_choice,
}


# --- public API ---------------------------------------------------------------------------------

def validate(template_card: dict, *, for_update: bool = False,
             require_task_id: bool = True) -> list[CardError]:
    """Check a template_card against every documented WeCom rule; [] when it is valid.

    :param template_card: the ``template_card`` object (not the whole send body).
    :param for_update: allow the update-only fields (replace_text, *.disable) and drop the
        task_id requirement, as for ``update_template_card``.
    :param require_task_id: False for designer drafts, whose task_id the sender assigns.
    :return: every problem found, in card order then cross-field rules; a bad or missing
        card_type gives that single error (42031).
    """
    if not isinstance(template_card, dict):
        return [CardError("", "The card must be a JSON object ({...}) with a card_type. "
                              "Change it.")]
    card_type = template_card.get("card_type")
    if card_type not in CARD_TYPES:
        what = "is missing" if card_type in (None, "") else f"“{card_type}” is not a card type"
        return [CardError("card_type", f"card_type {what}. Use one of {_words(CARD_TYPES)}.",
                          42031)]
    ctx = {"card_type": card_type, "for_update": for_update,
           "task_id": require_task_id and not for_update}
    errors: list[CardError] = []
    fields = card_fields(card_type, task_id_required=ctx["task_id"])
    _check_object(template_card, fields, "", ctx, errors)
    for rule in CROSS_RULES[card_type]:
        errors.extend(_CROSS_CHECKS[rule](template_card, ctx))
    return errors


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
