"""The reply rules as the callback uses them: compiled once per process into one matcher, and
reloaded within RELOAD_EVERY seconds of any change in any process (a version in shared_value).

The callback reads them without the ORM session (its hot path runs on a bare connection).
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from ..extensions import db
from ..models import ReplyRule, SharedValue
from .matcher import Matcher, RuleSpec, Trigger

RELOAD_EVERY = 2.0  # seconds a process may answer with rules older than the last edit
VERSION_KEY = "conversations.rules_version"
_LOAD = db.select(ReplyRule.id, ReplyRule.name, ReplyRule.kind, ReplyRule.priority, ReplyRule.reply_mode,
                  ReplyRule.triggers, ReplyRule.replies).where(ReplyRule.enabled)
_VERSION = db.select(SharedValue.value).where(SharedValue.name == VERSION_KEY)


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    kind: str
    reply_mode: str
    replies: tuple


@dataclass
class Compiled:
    """Every enabled rule, the keyword matcher over them, the default reply and the welcome."""

    version: str | None = None
    matcher: Matcher = field(default_factory=lambda: Matcher.build([]))
    rules: dict[int, Rule] = field(default_factory=dict)
    default: Rule | None = None
    welcome: Rule | None = None
    checked: float = 0.0  # time.monotonic() of the last look at the version


def current(conn) -> Compiled:
    """The rules in force, reloaded when another process (or this one) changed them."""
    holder = current_app.extensions.setdefault("conversation_rules", {"compiled": Compiled(),
                                                                     "lock": threading.Lock()})
    compiled = holder["compiled"]
    if time.monotonic() - compiled.checked < RELOAD_EVERY:
        return compiled
    version = conn.execute(_VERSION).scalar()
    if version == compiled.version and compiled.checked:
        compiled.checked = time.monotonic()
        return compiled
    with holder["lock"]:
        if holder["compiled"] is compiled:
            holder["compiled"] = _compile(conn, version)
    return holder["compiled"]


def _compile(conn, version: str | None) -> Compiled:
    out = Compiled(version=version, checked=time.monotonic())
    specs = []
    for row in conn.execute(_LOAD):
        rule = Rule(row.id, row.name, row.kind, row.reply_mode, tuple(row.replies or ()))
        if rule.kind == "default":
            out.default = out.default or rule
        elif rule.kind == "welcome":
            out.welcome = out.welcome or rule
        else:
            out.rules[rule.id] = rule
            specs.append(RuleSpec(row.id, row.priority, [Trigger(t["match"], t["text"])
                                                         for t in row.triggers or ()]))
    out.matcher = Matcher.build(specs)
    return out


def changed() -> None:
    """Tell every process the rules changed (in the caller's transaction)."""
    value = secrets.token_hex(8)
    if not db.session.execute(db.update(SharedValue).filter_by(name=VERSION_KEY).values(value=value)).rowcount:
        db.session.add(SharedValue(name=VERSION_KEY, value=value))
    if holder := current_app.extensions.get("conversation_rules"):
        holder["compiled"].checked = 0.0  # this process looks again at its next message
