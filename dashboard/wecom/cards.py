"""WeCom template_card rules (PROTOCOL.md section 3, plus the update-only fields of 2.3).

The tables below are the single source of truth. validate() walks them with one generic checker
and a few cross-field functions; BLOCKS_BY_TYPE, limits(), ERRCODE_FIELDS and json_schema() are
derived from the same tables, so the designer, the API and the schema file cannot disagree.

Texts are measured in characters (len() of the str, i.e. code points); keys, ids and task_id in
UTF-8 bytes. The "chars" limits are WeCom recommendations (the client truncates), but the product
promises to reject before WeCom does, so they are errors like the rest.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterator

CARD_TYPES = (
    "text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction",
)

Spec = dict[str, Any]


@dataclass(frozen=True)
class CardError:
    """One problem with a card, at a path relative to the card ("" for the card itself)."""

    path: str
    message: str
    code: int | None = None


# --- rule tables --------------------------------------------------------------------------------
# A spec is a plain dict: type (string/int/bool/float/object/list) plus optional rules:
# required, required_if {sibling: [values]}, default, enum, max_chars, max_bytes, pattern,
# min, max_exclusive, min_items, max_items, unique (among list siblings), update_only,
# code (WeCom errcode for problems here), dup_code (errcode for duplicates), fields (object
# members, or the members of each list item), name (JSON Schema $defs name for a variant block).

def _spec(type_: str, fields: dict[str, Spec] | None = None, **rules: Any) -> Spec:
    """One field's rules; a rule given as None is left out."""
    rules = {k: v for k, v in rules.items() if v is not None}
    return {"type": type_, **rules, **({"fields": fields} if fields else {})}


_str, _bool, _obj, _list = (partial(_spec, t) for t in ("string", "bool", "object", "list"))


def _int(*allowed: int, **rules: Any) -> Spec:
    return _spec("int", enum=list(allowed), **rules)


def _link(*types: int, url_code: int | None = None, appid_code: int | None = None,
          **type_rules: Any) -> dict[str, Spec]:
    """type/url/appid/pagepath, shared by quote_area, jump_list, card_action, image_text_area."""
    return {"type": _int(*types, **(type_rules or {"default": 0})),
            "url": _str(required_if={"type": [1]}, code=url_code),
            "appid": _str(required_if={"type": [2]}, code=appid_code),
            "pagepath": _str()}


KEY_BYTES = 1024  # every callback key and question_key
ID_BYTES = 128  # option ids and task_id

_OPTION = {
    "id": _str(required=True, max_bytes=ID_BYTES, unique=True, code=42040),
    "text": _str(required=True, max_chars=16, code=42041),
}
_QUESTION_KEY = _str(required=True, max_bytes=KEY_BYTES, code=42043)
_OPTIONS = {"required": True, "min_items": 1, "code": 42037}


def _main_title(title_required: bool, name: str | None = None) -> Spec:
    return _obj({"title": _str(required=title_required or None, max_chars=36),
                 "desc": _str(max_chars=44)}, name=name)


def _card_action(notice: bool) -> Spec:
    type_rules = {"required": True} if notice else {"default": 0}
    types = (1, 2) if notice else (0, 1, 2)
    return _obj(_link(*types, url_code=42028, appid_code=42030, code=42045, **type_rules),
                code=42045, name="card_action_notice" if notice else None)


_CARD_TYPE = _str(required=True, enum=list(CARD_TYPES), code=42031)

_BLOCKS: dict[str, Spec] = {
    "task_id": _str(max_bytes=ID_BYTES, pattern=r"^[0-9A-Za-z_\-@]*$",
                    pattern_words="letters, digits, _, - and @", code=42014),
    "source": _obj({"icon_url": _str(), "desc": _str(max_chars=20),
                    "desc_color": _int(0, 1, 2, 3, default=0)}),
    "action_menu": _obj({"desc": _str(), "action_list": _list(
        {"text": _str(required=True),
         "key": _str(required=True, max_bytes=KEY_BYTES, unique=True, dup_code=42051)},
        required=True, min_items=1, max_items=3)}),
    "main_title": _main_title(True),
    "quote_area": _obj({**_link(0, 1, 2), "title": _str(), "quote_text": _str()}),
    "emphasis_content": _obj({"title": _str(max_chars=14), "desc": _str(max_chars=22)}),
    "sub_title_text": _str(max_chars=160),
    "horizontal_content_list": _list({
        "type": _int(0, 1, 2, 3, default=0),
        "keyname": _str(required=True, max_chars=5, code=42027),
        "value": _str(max_chars=30),
        "url": _str(required_if={"type": [1]}, code=42028),
        "media_id": _str(required_if={"type": [2]}, code=42029),
        "userid": _str(required_if={"type": [3]}, code=42050),
    }, max_items=6, code=42035),
    "jump_list": _list({**_link(0, 1, 2, url_code=42028, appid_code=42030),
                        "title": _str(required=True, max_chars=18, code=42033)},
                       max_items=3, code=42042),
    "card_action": _card_action(notice=False),
    "card_image": _obj({"url": _str(required=True, code=42044),
                        "aspect_ratio": _spec("float", default=1.3, min=1.3, max_exclusive=2.25)}),
    "image_text_area": _obj({**_link(0, 1, 2), "title": _str(), "desc": _str(),
                             "image_url": _str(required=True)}),
    "vertical_content_list": _list({"title": _str(required=True, max_chars=38, code=42033),
                                    "desc": _str(max_chars=160)}, max_items=4, code=42036),
    "button_selection": _obj({
        "question_key": _QUESTION_KEY, "title": _str(),
        "option_list": _list(_OPTION, max_items=10, **_OPTIONS),
        "selected_id": _str(), "disable": _bool(update_only=True)}),
    "button_list": _list({
        "type": _int(0, 1, default=0),
        "text": _str(required=True, max_chars=10, code=42038),
        "style": _int(1, 2, 3, 4, default=1),
        "key": _str(required_if={"type": [0]}, max_bytes=KEY_BYTES, unique=True, code=42039),
        "url": _str(required_if={"type": [1]}),
    }, min_items=1, max_items=6),
    "checkbox": _obj({
        "question_key": _QUESTION_KEY,
        "option_list": _list({**_OPTION, "text": _str(required=True, max_chars=17, code=42041),
                              "is_checked": _bool(required=True)}, max_items=20, **_OPTIONS),
        "mode": _int(0, 1, default=0), "disable": _bool(update_only=True)}),
    "select_list": _list({
        "question_key": {**_QUESTION_KEY, "unique": True}, "title": _str(), "selected_id": _str(),
        "option_list": _list(_OPTION, max_items=10, **_OPTIONS),
        "disable": _bool(update_only=True)}, min_items=1, max_items=3, code=42047),
    "submit_button": _obj({"text": _str(max_chars=10, default="提交", code=42049),
                           "key": _str(required=True, max_bytes=KEY_BYTES, code=42046)}),
    "replace_text": _str(update_only=True),
}

# Blocks whose rules differ by card type (everything else is shared).
_VARIANTS: dict[str, dict[str, Spec]] = {
    "text_notice": {"main_title": _main_title(False, name="main_title_text_notice"),
                    "card_action": _card_action(notice=True)},
    "news_notice": {"card_action": _card_action(notice=True)},
}

_O, _R = "optional", "required"
BLOCKS_BY_TYPE: dict[str, dict[str, str]] = {
    "text_notice": {
        "source": _O, "action_menu": _O, "task_id": _O, "main_title": _O, "quote_area": _O,
        "emphasis_content": _O, "sub_title_text": _O, "horizontal_content_list": _O,
        "jump_list": _O, "card_action": _R},
    "news_notice": {
        "source": _O, "action_menu": _O, "task_id": _O, "main_title": _R, "quote_area": _O,
        "horizontal_content_list": _O, "jump_list": _O, "card_action": _R, "card_image": _O,
        "image_text_area": _O, "vertical_content_list": _O},
    "button_interaction": {
        "source": _O, "action_menu": _O, "task_id": _R, "main_title": _R, "quote_area": _O,
        "sub_title_text": _O, "horizontal_content_list": _O, "card_action": _O,
        "button_selection": _O, "button_list": _R, "replace_text": _O},
    "vote_interaction": {
        "source": _O, "task_id": _R, "main_title": _R, "checkbox": _R, "submit_button": _R,
        "replace_text": _O},
    "multiple_interaction": {
        "source": _O, "task_id": _R, "main_title": _R, "select_list": _R, "submit_button": _R,
        "replace_text": _O},
}
"""Which top-level blocks each card type accepts (PROTOCOL 3.1). Treat as read-only.

Conditional rules are not in this table: text_notice needs main_title.title or sub_title_text,
news_notice needs card_image or image_text_area, and a notice card with action_menu needs
task_id. replace_text is accepted only by validate(..., for_update=True).
"""


def _card_fields(card_type: str, *, task_id_required: bool = True) -> dict[str, Spec]:
    fields = {"card_type": _CARD_TYPE}
    for block, need in BLOCKS_BY_TYPE[card_type].items():
        spec = _VARIANTS.get(card_type, {}).get(block, _BLOCKS[block])
        required = need == _R and (block != "task_id" or task_id_required)
        fields[block] = {**spec, "required": True} if required else spec
    return fields


def _walk(fields: dict[str, Spec], prefix: str = "") -> Iterator[tuple[str, Spec]]:
    for name, spec in fields.items():
        yield prefix + name, spec
        if "fields" in spec:
            sep = "[]." if spec["type"] == "list" else "."
            yield from _walk(spec["fields"], prefix + name + sep)


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
        if not path and name in _BLOCKS:
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
    for rule, check in _RULES.items():
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
        if not spec.get("unique"):
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
                      "_, - and @, at most 128 bytes). Add one.", _BLOCKS["task_id"]["code"])]


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


_CROSS_RULES: dict[str, tuple[Callable[[dict, dict], list[CardError]], ...]] = {
    "text_notice": (_title_or_subtitle, _task_id_for_menu),
    "news_notice": (_image_or_text_area, _task_id_for_menu),
    "button_interaction": (_selected_ids,),
    "vote_interaction": (_single_choice,),
    "multiple_interaction": (_selected_ids,),
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
    fields = _card_fields(card_type, task_id_required=ctx["task_id"])
    _check_object(template_card, fields, "", ctx, errors)
    for rule in _CROSS_RULES[card_type]:
        errors.extend(rule(template_card, ctx))
    return errors


def limits() -> dict[str, dict[str, dict[str, Any]]]:
    """Per card type, per field path pattern ("button_list[].key"), the rules the validator uses.

    Shape: ``{card_type: {path: {"type": ..., "required": bool?, "max_chars": int?,
    "max_bytes": int?, "min_items": int?, "max_items": int?, "enum": [...]?, "default": ...?,
    "required_if": {"type": [1]}?, "pattern": str?, "unique": bool?, "update_only": bool?,
    "min": float?, "max_exclusive": float?, "code": int?}}}``. JSON-serializable; a fresh copy.
    """
    return json.loads(json.dumps({
        card_type: {path: {k: v for k, v in spec.items() if k not in ("fields", "name")}
                    for path, spec in _walk(_card_fields(card_type))}
        for card_type in CARD_TYPES}))


def _errcode_fields() -> dict[int, str]:
    paths: dict[int, set[str]] = {}
    for card_type in CARD_TYPES:
        for path, spec in _walk(_card_fields(card_type)):
            for key in ("code", "dup_code"):
                if key in spec:
                    paths.setdefault(spec[key], set()).add(path)
    return {code: ", ".join(sorted(found)) for code, found in sorted(paths.items())}


ERRCODE_FIELDS: dict[int, str] = _errcode_fields()
"""WeCom errcode -> the field path(s) it concerns (", "-joined when several; PROTOCOL 3.6)."""


# --- JSON Schema --------------------------------------------------------------------------------

_SCHEMA_DESCRIPTION = (
    "WeCom template_card (PROTOCOL.md section 3), generated by dashboard.wecom.cards.json_schema()"
    " from the validator's rule tables; do not edit by hand. It checks structure: fields allowed"
    " per card_type, types, enums, list lengths, text lengths, required and type-dependent"
    " required fields. Validator-only rules (use dashboard.wecom.cards.validate): UTF-8 byte"
    " limits (here only maxLength in characters, a necessary condition), empty strings in fields"
    " required by type, unique keys and option ids, selected_id among the options, one"
    " pre-selected option in single-choice votes, main_title.title or sub_title_text on"
    " text_notice, card_image or image_text_area on news_notice, and task_id with action_menu.")
_JSON_TYPES = {"string": "string", "int": "integer", "bool": "boolean", "float": "number",
               "object": "object", "list": "array"}
_KEYWORDS = {"enum": "enum", "default": "default", "max_chars": "maxLength",
             "max_bytes": "maxLength", "pattern": "pattern", "min": "minimum",
             "max_exclusive": "exclusiveMaximum", "min_items": "minItems",
             "max_items": "maxItems"}


def _value_schema(spec: Spec, for_update: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES[spec["type"]]}
    schema.update({kw: spec[rule] for rule, kw in _KEYWORDS.items() if rule in spec})
    if "max_bytes" in spec:
        schema["description"] = f"at most {spec['max_bytes']} UTF-8 bytes"
    if spec.get("required") and spec["type"] == "string":
        schema["minLength"] = 1
    if spec["type"] == "object":
        schema.update(_object_schema(spec["fields"], for_update))
    elif spec["type"] == "list":
        schema["items"] = {"type": "object", **_object_schema(spec["fields"], for_update)}
    return schema


def _object_schema(fields: dict[str, Spec], for_update: bool,
                   defs: dict[str, Any] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {}
    conditions = []
    for name, spec in fields.items():
        if spec.get("update_only") and not for_update:
            continue
        if defs is not None and "fields" in spec:
            ref = spec.get("name", name)
            defs.setdefault(ref, _value_schema(spec, for_update))
            props[name] = {"$ref": f"#/$defs/{ref}"}
        else:
            props[name] = _value_schema(spec, for_update)
        for sibling, values in spec.get("required_if", {}).items():
            when: dict[str, Any] = {"properties": {sibling: {"enum": values}}}
            if fields[sibling].get("default") not in values:
                when["required"] = [sibling]
            conditions.append({"if": when, "then": {
                "required": [name], "properties": {name: {"minLength": 1}}}})
    schema: dict[str, Any] = {"properties": props, "additionalProperties": False}
    required = [name for name in props if fields[name].get("required")]
    if required:
        schema["required"] = required
    if conditions:
        schema["allOf"] = conditions
    return schema


def json_schema(*, for_update: bool = False) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for template_card, generated from the validator's tables.

    :param for_update: describe an ``update_template_card`` card (update-only fields allowed,
        task_id optional) instead of a card for ``message/send``.
    """
    defs: dict[str, Any] = {}
    branches = []
    for card_type in CARD_TYPES:
        fields = _card_fields(card_type, task_id_required=not for_update)
        then = {"type": "object", **_object_schema(fields, for_update, defs)}
        then["properties"]["card_type"] = {"const": card_type}
        branches.append({"if": {"properties": {"card_type": {"const": card_type}},
                                "required": ["card_type"]}, "then": then})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:wecom-dashboard:template_card" + (":update" if for_update else ""),
        "title": "WeCom template_card" + (" (update)" if for_update else ""),
        "description": _SCHEMA_DESCRIPTION,
        "type": "object",
        "required": ["card_type"],
        "properties": {"card_type": {"enum": list(CARD_TYPES)}},
        "allOf": branches,
        "$defs": dict(sorted(defs.items())),
    }


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2))
