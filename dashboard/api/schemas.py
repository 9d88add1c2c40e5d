"""The API's request bodies as JSON Schema, and the checker that reports every problem at its path.

openapi.py publishes these same dicts, so the documentation and the checks cannot disagree. The
checker knows the subset used here (type, properties, required, additionalProperties, items,
enum, min/max, min/maxLength, maxItems, pattern, format); card rules stay in wecom/cards.py.
Paths are field names; messages are for people, in the request's language (English unless its
Accept-Language asks for Chinese), so they are made while a request is answered.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..campaigns.recipients import USERID, check_userid, is_empty
from ..cards.service import usable_in_campaign
from ..i18n import card_error_text
from ..models import Card, utcnow
from ..wecom.cards import CardError, is_unicode, validate, warnings
from .errors import ApiError, Invalid, either, too_large
from .service import MAX_DAYS as MAX_TOKEN_DAYS

MAX_ERRORS = 100
MAX_ID = 2**31 - 1  # larger ids cannot exist; asking for them is a 404/422, never a 500


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


NAME = {"type": "string", "minLength": 1, "maxLength": 120, "pattern": r"\S",
        "description": "Shown in the dashboard's lists; 1-120 characters, not only spaces."}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
GROUP_IDS = {"type": "array", "items": ID, "maxItems": 1000}

REQUESTS: dict[str, dict] = {
    "CardCreate": {
        "type": "object", "required": ["name", "template_card"], "additionalProperties": False,
        "properties": {"name": NAME, "template_card": ref("TemplateCard")},
    },
    "CardUpdate": {
        "type": "object", "required": ["template_card"], "additionalProperties": False,
        "properties": {"name": {**NAME, "description": "Optional: the card keeps its name."},
                       "template_card": ref("TemplateCard")},
    },
    "CardValidate": {
        "type": "object", "required": ["template_card"], "additionalProperties": False,
        "properties": {"template_card": ref("TemplateCard")},
    },
    "Recipients": {
        "type": "object", "additionalProperties": False,
        "description": "At least one of users, departments, tags or all.",
        "properties": {
            "users": {"type": "array", "maxItems": 100_000, "items": {
                "type": "string", "format": "wecom-userid", "pattern": f"^{USERID.pattern}$",
                "maxLength": 64}, "description": "WeCom user ids."},
            "departments": {**GROUP_IDS, "description": "Department ids, sub-departments included."},
            "tags": {**GROUP_IDS, "description": "Tag ids."},
            "all": {"type": "boolean", "description": "Everyone in the app's visible range (@all)."},
        },
    },
    "CampaignOptions": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "enable_duplicate_check": {"type": "boolean", "default": True},
            "duplicate_check_interval": {"type": "integer", "minimum": 1, "maximum": 14400,
                                         "default": 1800, "description": "Seconds."},
        },
    },
    "CampaignCreate": {
        "type": "object", "required": ["card_id", "name", "recipients"],
        "additionalProperties": False,
        "properties": {
            "card_id": {**ID, "description": "The card; its latest version is sent."},
            "name": NAME,
            "recipients": ref("Recipients"),
            "send_at": {"type": ["string", "null"], "format": "date-time",
                        "description": "null: send when POST /campaigns/{id}/send is called; "
                                       "else an ISO-8601 time with a UTC offset, in the future."},
            "options": ref("CampaignOptions"),
        },
    },
    "TokenCreate": {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": r"\S",
                     "description": "What the token is for, e.g. the integration's name."},
            "scope": {"enum": ["full", "read"], "default": "full",
                      "description": "read: GET requests only."},
            "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_TOKEN_DAYS,
                                "description": "null or left out: the token works until revoked."},
        },
    },
}
# How the checker sees references: a template_card is an object here; its rules are validate()'s.
CHECKED = {**REQUESTS, "TemplateCard": {"type": "object"}}


# --- the checker -------------------------------------------------------------------------------


def _datetime_problem(value: str) -> str | None:
    try:
        parsed = datetime.fromisoformat(value)
        parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return _("must be an ISO-8601 date and time, e.g. 2025-06-01T09:30:00+08:00")
    return None if parsed.tzinfo else _("needs a UTC offset (Z or +08:00) to be unambiguous")


FORMATS = {"date-time": _datetime_problem, "wecom-userid": check_userid}
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
ARTICLES = {"object": _l("an object"), "array": _l("an array"), "string": _l("a string"),
            "integer": _l("an integer"), "boolean": _l("true or false"), "null": _l("null")}


def _is(value: Any, type_: str) -> bool:
    if type_ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, TYPES[type_])


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def problems(value: Any, schema: dict, path: str = "") -> list[dict]:
    """Every way value breaks schema, as [{"path", "message"}], at most MAX_ERRORS."""
    if "$ref" in schema:
        schema = CHECKED[schema["$ref"].rsplit("/", 1)[1]]
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types or []
    if types and not any(_is(value, t) for t in types):
        return [{"path": path, "message": _("must be %(type)s",
                                            type=either(ARTICLES[t] for t in types))}]
    if "enum" in schema and value not in schema["enum"]:
        return [{"path": path, "message": _("must be one of %(values)s",
                                            values=", ".join(map(str, schema["enum"])))}]
    check = {dict: _object, list: _array, str: _string, int: _number}.get(type(value))
    return check(value, schema, path)[:MAX_ERRORS] if check else []


def _object(value: dict, schema: dict, path: str) -> list[dict]:
    fields = schema.get("properties", {})
    errors = [{"path": _at(path, key), "message": _("is required")}
              for key in schema.get("required", ()) if key not in value]
    for key, item in value.items():
        if key in fields:
            errors += problems(item, fields[key], _at(path, key))
        elif schema.get("additionalProperties") is False:
            errors.append({"path": _at(path, key), "message": _(
                "is not a field here; expected %(fields)s", fields=", ".join(fields))})
    return errors


def _array(value: list, schema: dict, path: str) -> list[dict]:
    if len(value) > schema.get("maxItems", len(value)):
        return [{"path": path, "message": _("has %(n)s items; at most %(max)s", n=f"{len(value):,}",
                                            max=f"{schema['maxItems']:,}")}]
    errors: list[dict] = []
    for index, item in enumerate(value):
        errors += problems(item, schema.get("items", {}), _at(path, index))
        if len(errors) >= MAX_ERRORS:
            break
    return errors


def _string(value: str, schema: dict, path: str) -> list[dict]:
    if not is_unicode(value):  # "\ud800" is valid JSON, but no database or WeCom takes it
        return [{"path": path, "message": _("holds a lone surrogate, which is not text")}]
    if len(value) < schema.get("minLength", 0):
        return [{"path": path, "message": _("must not be empty")}]
    if len(value) > schema.get("maxLength", len(value)):
        return [{"path": path, "message": _("has %(n)s characters; at most %(max)s", n=len(value),
                                            max=schema["maxLength"])}]
    if "format" in schema and (problem := FORMATS[schema["format"]](value)):
        return [{"path": path, "message": _("“%(value)s” %(problem)s", value=value[:80],
                                            problem=problem)}]
    if "pattern" in schema and not re.search(schema["pattern"], value):
        spaces = schema["pattern"] == r"\S"
        return [{"path": path, "message": _("must contain more than spaces") if spaces
                 else _("must match %(pattern)s", pattern=schema["pattern"])}]
    return []


def _number(value: int, schema: dict, path: str) -> list[dict]:
    low, high = schema.get("minimum", value), schema.get("maximum", value)
    return [] if low <= value <= high else [
        {"path": path, "message": _("must be %(low)s to %(high)s", low=low, high=high)}]


# --- requests ----------------------------------------------------------------------------------


def json_body() -> Any:
    """The request body as JSON; 400 when it is not JSON (413 comes from the size limit), 422
    where a text holds NUL."""
    data = request.get_data(cache=True)
    if len(data) > current_app.config["API_MAX_BODY"]:  # a chunked body, read one byte past it
        raise too_large()
    try:
        value = json.loads(data)
        paths = _nul_paths(value)[:MAX_ERRORS]
    except (ValueError, RecursionError) as exc:
        reason = _("it is nested too deeply") if isinstance(exc, RecursionError) else str(exc)
        raise ApiError(400, _("The body is not valid JSON: %(reason)s.", reason=reason)) from None
    if paths:
        raise Invalid([{"path": path, "message": _("must not contain the NUL character (\\u0000)")}
                       for path in paths])
    return value


def _nul_paths(value: Any, path: str = "") -> list[str]:
    """Where strings or keys hold NUL, which PostgreSQL stores neither in text nor in JSONB."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [found for key, item in value.items()
                for found in ([_at(path, key)] if "\x00" in key else _nul_paths(item, _at(path, key)))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _nul_paths(item, _at(path, index))]
    return []


def parse(name: str) -> dict:
    """The JSON body, checked against REQUESTS[name]; 422 with every problem otherwise."""
    data = json_body()
    if errors := problems(data, REQUESTS[name]):
        raise Invalid(errors)
    return data


def at_card(errors: list[CardError]) -> list[dict]:
    """A card's problems at their paths in the request or response: template_card.<path>."""
    return [{"path": _at("template_card", e.path) if e.path else "template_card",
             "message": card_error_text(e), "code": e.code} for e in errors]


def card_errors(template_card: dict) -> list[dict]:
    """WeCom's rules for a card, as the designer applies them: the sender assigns task_id."""
    return at_card(validate(template_card, require_task_id=False))


def card_warnings(template_card: dict) -> list[dict]:
    """Where WeCom truncates or falls back on this card (it stays usable), at their paths:
    [{"path", "message"}], beside the errors of card_errors()."""
    return [{"path": e["path"], "message": e["message"]}
            for e in at_card(warnings(template_card, require_task_id=False))]


def valid_card(data: dict) -> dict:
    """The request's template_card without task_id (the sender assigns one); 422 if invalid."""
    card = {k: v for k, v in data["template_card"].items() if k != "task_id"}
    if errors := card_errors(card):
        raise Invalid(errors)
    return card


def query_int(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within low..high; 422 at its name otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw) or not low <= int(raw) <= high:
        raise Invalid([{"path": name, "message": _(
            "must be a whole number from %(low)s to %(high)s", low=low, high=high)}])
    return int(raw)


def campaign_fields(data: dict, card: Card | None) -> dict:
    """The keyword arguments of campaigns.service.create_campaign, after the cross-field rules."""
    errors = []
    if card is None:
        errors.append({"path": "card_id", "message": _("there is no card %(id)s",
                                                       id=data["card_id"])})
    elif card.archived or card.latest is None or not usable_in_campaign(card.latest):
        errors.append({"path": "card_id", "message": _(
            "the card is archived or has problems (GET /cards/{id} lists them); fix it first")})
    if is_empty(data["recipients"]):
        errors.append({"path": "recipients", "message": _("choose at least one of users, "
                                                          "departments, tags or all")})
    send_at = data.get("send_at") and datetime.fromisoformat(data["send_at"]).astimezone(timezone.utc)
    if send_at and send_at <= utcnow():
        errors.append({"path": "send_at",
                       "message": _("that time has passed; choose a future time")})
    if errors:
        raise Invalid(errors)
    return {"name": data["name"].strip(), "card_version": card.latest, "send_at": send_at or None,
            "recipients": data["recipients"], "options": data.get("options") or {}}
