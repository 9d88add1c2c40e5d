"""What a reply rule must be before it is saved (issue 26, points 1, 2, 6, 7), checked in one place
for the editor pages and the JSON API: every problem at its path in the rule's JSON
(``triggers[0].text``, ``replies[1].articles[2].url``), in the request's language.

The body is the API's: ``name``, ``kind``, ``priority``, ``enabled``, ``reply_mode``, ``triggers``
(each ``{"match", "text"}``) and ``replies`` (each ``{"type": "text", "text"}``, ``{"type":
"news", "articles": [...]}`` or ``{"type": "card", "card_id"}``). Anything JSON can hold may
arrive, so every value's type is checked before its content.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from ..cards.service import card_problems
from ..extensions import db
from ..models import Card, ReplyRule
from ..models.conversation import REPLY_MODES, RULE_KINDS
from ..wecom.cards import is_unicode
from ..wecom.replies import NEWS_LIMIT, TEXT_LIMIT
from .matcher import MATCH_KINDS, TRIGGER_LIMITS, check_keyword, check_pattern

#: Counts in items or characters, sizes in UTF-8 bytes as WeCom counts them (CONVERSATIONS §3, §5:
#: a news article's title 128 bytes, description 512; a link as textcard's, 2048).
LIMITS = {"name": 60, "triggers": TRIGGER_LIMITS["per_rule"], "replies": 5, "text": TEXT_LIMIT,
          "articles": NEWS_LIMIT, "title": 128, "description": 512, "url": 2048, "priority": 10_000}
REPLY_TYPES = ("text", "news", "card")
FIELDS = ("id", "name", "kind", "priority", "enabled", "reply_mode", "triggers", "replies")
ARTICLE_FIELDS = ("title", "description", "url", "picurl")
REPLY_FIELDS = {"text": ("type", "text"), "news": ("type", "articles"), "card": ("type", "card_id")}
DEFAULTS = {"kind": "keyword", "priority": 100, "enabled": True, "reply_mode": "all"}
MAX_ID = 2**31 - 1

Problems = list[dict]


def rule_problems(body: Any, *, rule_id: int | None = None) -> Problems:
    """Every way ``body`` breaks the rules, as ``[{"path", "message"}]``; [] when it can be saved.

    ``rule_id``: the rule being changed (the default reply and the welcome exist once).
    """
    if not isinstance(body, dict):
        return [_at("", _("must be %(type)s", type=_("an object")))]
    problems = _unknown(body, FIELDS, "")
    kind = body.get("kind", DEFAULTS["kind"])
    problems += _name(body.get("name"))
    problems += _kind(kind, rule_id)
    problems += _whole_number("priority", body.get("priority", DEFAULTS["priority"]), 0, LIMITS["priority"])
    if not isinstance(body.get("enabled", True), bool):
        problems.append(_at("enabled", _("must be %(type)s", type=_("true or false"))))
    if body.get("reply_mode", DEFAULTS["reply_mode"]) not in REPLY_MODES:
        problems.append(_at("reply_mode", _("must be one of %(values)s", values=", ".join(REPLY_MODES))))
    known_kind = kind if isinstance(kind, str) and kind in RULE_KINDS else DEFAULTS["kind"]
    problems += _triggers(body.get("triggers", []), known_kind)
    problems += _replies(body.get("replies", []))
    return problems


def rule_fields(body: dict) -> dict:
    """The fields service.save_rule takes, from a body :func:`rule_problems` passed: defaults
    filled in, names and keywords without surrounding spaces, replies with their own keys only."""
    fields = {**DEFAULTS, **{key: body[key] for key in DEFAULTS if key in body}}
    fields["name"] = body["name"].strip()
    triggers = body.get("triggers", []) if fields["kind"] == "keyword" else []
    fields["triggers"] = [{"match": t["match"], "text": t["text"] if t["match"] == "pattern" else t["text"].strip()}
                          for t in triggers]  # a pattern's spaces may be what it looks for
    fields["replies"] = [_reply_fields(reply) for reply in body["replies"]]
    return fields


def _reply_fields(reply: dict) -> dict:
    if reply["type"] == "news":
        return {"type": "news", "articles": [
            {key: article[key].strip() for key in ARTICLE_FIELDS if article.get(key, "").strip()}
            for article in reply["articles"]]}
    if reply["type"] == "card":
        return {"type": "card", "card_id": reply["card_id"]}
    return {"type": "text", "text": reply["text"]}


# --- the checks -------------------------------------------------------------------------------------


def _at(path: str, message: str) -> dict:
    return {"path": path, "message": message}


def _unknown(value: dict, fields, path: str) -> Problems:
    return [_at(f"{path}.{key}" if path else str(key), _("is not a field here; expected %(fields)s",
                                                         fields=", ".join(fields)))
            for key in value if key not in fields]


def _text(path: str, value: Any) -> Problems:
    """A string that has UTF-8 (JSON's "\\ud800" has none: neither WeCom nor a database takes it)."""
    if not isinstance(value, str):
        return [_at(path, _("must be %(type)s", type=_("a string")))]
    if not is_unicode(value):
        return [_at(path, _("holds a lone surrogate, which is not text"))]
    return []


def _bytes(path: str, value: str, limit: int) -> Problems:
    size = len(value.encode("utf-8"))
    if size <= limit:
        return []
    return [_at(path, _("%(size)s bytes; at most %(limit)s.", size=f"{size:,}", limit=f"{limit:,}"))]


def _whole_number(path: str, value: Any, low: int, high: int) -> Problems:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return []
    return [_at(path, _("must be a whole number from %(low)s to %(high)s", low=low, high=high))]


def _name(value: Any) -> Problems:
    if value is None or (isinstance(value, str) and not value.strip()):
        return [_at("name", _("Give the rule a name."))]
    if problems := _text("name", value):
        return problems
    if len(value.strip()) > LIMITS["name"]:
        return [_at("name", _("A name has at most %(max)s characters (%(n)s now).", max=LIMITS["name"],
                              n=len(value.strip())))]
    return []


def _kind(kind: Any, rule_id: int | None) -> Problems:
    if not isinstance(kind, str) or kind not in RULE_KINDS:
        return [_at("kind", _("must be one of %(values)s", values=", ".join(RULE_KINDS)))]
    if kind == "keyword":
        return []
    other = db.session.scalar(db.select(ReplyRule.id).where(ReplyRule.kind == kind)
                              .where(ReplyRule.id != (rule_id or 0)).limit(1))
    if other is None:
        return []
    return [_at("kind", _("There is one already (rule %(id)s): change that one instead.", id=other))]


def _triggers(triggers: Any, kind: str) -> Problems:
    if not isinstance(triggers, list):
        return [_at("triggers", _("must be %(type)s", type=_("an array")))]
    if kind != "keyword":
        return [_at("triggers", _("The default reply and the welcome have no triggers."))] if triggers else []
    if not triggers:
        return [_at("triggers", _("Add at least one keyword or pattern."))]
    if len(triggers) > LIMITS["triggers"]:
        return [_at("triggers", _("A rule has at most %(max)s triggers (%(n)s now).", max=LIMITS["triggers"],
                                  n=len(triggers)))]
    return [problem for index, trigger in enumerate(triggers)
            for problem in _trigger(f"triggers[{index}]", trigger)]


def _trigger(path: str, trigger: Any) -> Problems:
    if not isinstance(trigger, dict):
        return [_at(path, _("must be %(type)s", type=_("an object")))]
    problems = _unknown(trigger, ("match", "text"), path)
    match = trigger.get("match")
    if not isinstance(match, str) or match not in MATCH_KINDS:
        problems.append(_at(f"{path}.match", _("must be one of %(values)s", values=", ".join(MATCH_KINDS))))
    text_problems = _text(f"{path}.text", trigger.get("text"))
    if text_problems or match not in MATCH_KINDS:
        return problems + text_problems
    reason = check_pattern(trigger["text"]) if match == "pattern" else check_keyword(trigger["text"])
    return problems + ([_at(f"{path}.text", reason)] if reason else [])


def _replies(replies: Any) -> Problems:
    if not isinstance(replies, list):
        return [_at("replies", _("must be %(type)s", type=_("an array")))]
    if not replies:
        return [_at("replies", _("Add at least one reply."))]
    if len(replies) > LIMITS["replies"]:
        return [_at("replies", _("A rule has at most %(max)s replies (%(n)s now).", max=LIMITS["replies"],
                                 n=len(replies)))]
    return [problem for index, reply in enumerate(replies) for problem in _reply(f"replies[{index}]", reply)]


def _reply(path: str, reply: Any) -> Problems:
    if not isinstance(reply, dict):
        return [_at(path, _("must be %(type)s", type=_("an object")))]
    kind = reply.get("type")
    if not isinstance(kind, str) or kind not in REPLY_TYPES:
        return [_at(f"{path}.type", _("must be one of %(values)s", values=", ".join(REPLY_TYPES)))]
    problems = _unknown(reply, REPLY_FIELDS[kind], path)
    if kind == "text":
        return problems + _reply_text(f"{path}.text", reply.get("text"))
    if kind == "news":
        return problems + _articles(f"{path}.articles", reply.get("articles"))
    return problems + _card(f"{path}.card_id", reply.get("card_id"))


def _reply_text(path: str, text: Any) -> Problems:
    if problems := _text(path, text):
        return problems
    if not text.strip():
        return [_at(path, _("Write the reply's text."))]
    return _bytes(path, text, LIMITS["text"])


def _articles(path: str, articles: Any) -> Problems:
    if not isinstance(articles, list):
        return [_at(path, _("must be %(type)s", type=_("an array")))]
    if not 1 <= len(articles) <= LIMITS["articles"]:
        return [_at(path, _("A news reply has 1 to %(max)s articles (%(n)s now).", max=LIMITS["articles"],
                            n=len(articles)))]
    return [problem for index, article in enumerate(articles)
            for problem in _article(f"{path}[{index}]", article)]


def _article(path: str, article: Any) -> Problems:
    if not isinstance(article, dict):
        return [_at(path, _("must be %(type)s", type=_("an object")))]
    problems = _unknown(article, ARTICLE_FIELDS, path)
    for key in ARTICLE_FIELDS:
        if key in article or key in ("title", "url"):
            problems += _article_field(f"{path}.{key}", key, article.get(key))
    return problems


def _article_field(path: str, key: str, value: Any) -> Problems:
    if key in ("title", "url") and (value is None or isinstance(value, str) and not value.strip()):
        return [_at(path, _("Give the article a title.") if key == "title" else _link_problem(key))]
    if problems := _text(path, value):
        return problems
    if key in ("url", "picurl") and value.strip() and not _is_link(value.strip()):
        return [_at(path, _link_problem(key))]
    return _bytes(path, value.strip(), LIMITS.get(key, LIMITS["url"]))


def _link_problem(key: str) -> str:
    if key == "url":
        return _("Give the article a link (http:// or https://).")
    return _("A picture's address starts with http:// or https://.")


def _is_link(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed [IPv6 address
        return False
    spaced = any(c.isspace() for c in value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and not spaced


def _card(path: str, card_id: Any) -> Problems:
    if problems := _whole_number(path, card_id, 1, MAX_ID):
        return problems
    card = db.session.get(Card, card_id)
    if card is None:
        return [_at(path, _("There is no card %(id)s.", id=card_id))]
    if card.archived:
        return [_at(path, _("The card “%(name)s” is archived; choose another one.", name=card.name))]
    if card_problems(card):
        return [_at(path, _("The card “%(name)s” has problems and cannot be sent; fix it in the designer "
                            "first.", name=card.name))]
    return []


# --- the body as JSON Schema, for openapi.json --------------------------------------------------------


def rule_schema(*, required: tuple[str, ...] = (), answer: bool = False) -> dict:
    """The rule's JSON as JSON Schema: a request body (``required`` fields) or, with ``answer``,
    as the API answers it (every field, with its id). The checks above are what the API applies."""
    properties = {
        "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID,
               **({} if answer else {"description": "Ignored: the rule is the one in the URL."})},
        "name": {"type": "string", "minLength": 1, "maxLength": LIMITS["name"],
                 "description": "For the people who edit rules; members never see it."},
        "kind": {"enum": list(RULE_KINDS), "default": DEFAULTS["kind"],
                 "description": "keyword: answers its triggers; default: answers what no rule matched "
                                "(at most one); welcome: sent when a member opens the app, at most once "
                                "per member per WELCOME_EVERY (at most one)."},
        "priority": {"type": "integer", "minimum": 0, "maximum": LIMITS["priority"],
                     "default": DEFAULTS["priority"],
                     "description": "When several rules match, the lowest priority wins (then the oldest)."},
        "enabled": {"type": "boolean", "default": True},
        "reply_mode": {"enum": list(REPLY_MODES), "default": DEFAULTS["reply_mode"],
                       "description": "all: every reply is sent; random: one of them."},
        "triggers": {"type": "array", "maxItems": LIMITS["triggers"], "items": _TRIGGER,
                     "description": f"1 to {LIMITS['triggers']} for a keyword rule; none for the default "
                                    "reply and the welcome."},
        "replies": {"type": "array", "minItems": 1, "maxItems": LIMITS["replies"],
                    "items": {"oneOf": [_TEXT_REPLY, _NEWS_REPLY, _CARD_REPLY]},
                    "description": "The first text or news reply is the passive reply (in the callback's "
                                   "answer); cards and further replies are sent with message/send."},
    }
    names = FIELDS if answer else required
    return {"type": "object", "properties": properties, "additionalProperties": False,
            **({"required": list(names)} if names else {})}


def _closed(required: list[str], **properties) -> dict:
    """An object of exactly these properties (the checks refuse any other)."""
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


_TRIGGER = _closed(
    ["match", "text"],
    match={"enum": list(MATCH_KINDS), "description": "whole: the message is the keyword; contains: the message "
           "holds it (both ignoring case, full-width forms and surrounding spaces); pattern: an RE2 regular "
           "expression found in the message."},
    text={"type": "string", "minLength": 1, "maxLength": TRIGGER_LIMITS["pattern_max"],
          "description": f"A keyword of {TRIGGER_LIMITS['keyword_min']}-{TRIGGER_LIMITS['keyword_max']} "
                         f"characters, or a pattern of at most {TRIGGER_LIMITS['pattern_max']}."})
_TEXT_REPLY = _closed(["type", "text"], type={"const": "text"}, text={
    "type": "string", "minLength": 1, "description": f"At most {LIMITS['text']} bytes in UTF-8."})
_ARTICLE = _closed(
    ["title", "url"],
    title={"type": "string", "minLength": 1, "description": f"At most {LIMITS['title']} bytes."},
    description={"type": "string", "description": f"At most {LIMITS['description']} bytes."},
    url={"type": "string", "format": "uri", "description": "http:// or https://"},
    picurl={"type": "string", "description": "A picture's http(s) address; the first article's is shown large."})
_NEWS_REPLY = _closed(["type", "articles"], type={"const": "news"}, articles={
    "type": "array", "minItems": 1, "maxItems": LIMITS["articles"], "items": _ARTICLE})
_CARD_REPLY = _closed(["type", "card_id"], type={"const": "card"}, card_id={
    "type": "integer", "minimum": 1, "maximum": MAX_ID,
    "description": "A card of the library that can be sent; it goes to the member with message/send, and "
                   "its clicks and votes count in the rule's standing campaign."})
