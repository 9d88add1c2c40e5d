"""Fault injection: the switches on the control page, read and consumed by the sandbox API."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import SandboxSettings, SandboxToken, utcnow

#: The counters a call can consume, and the errcode each one answers with.
COUNTERS = {"fail_next": -1, "limit_next": 45009}
TEXTS = {-1: "system busy", 45009: "api freq out of limit"}


def settings() -> SandboxSettings:
    """The single settings row, created with the configured defaults on first use."""
    row = db.session.get(SandboxSettings, 1)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(SandboxSettings(id=1, token_ttl=current_app.config["SANDBOX_TOKEN_TTL"]))
        except IntegrityError:  # another process created it first
            pass
        row = db.session.get(SandboxSettings, 1)
    return row


def take(counter: str) -> bool:
    """Consume one unit of a counter; True when there was one (atomic across processes)."""
    column = getattr(SandboxSettings, counter)
    result = db.session.execute(
        db.update(SandboxSettings).where(SandboxSettings.id == 1, column > 0)
        .values({column: column - 1}).execution_options(synchronize_session=False))
    return result.rowcount == 1


def injected_errcode(current: SandboxSettings) -> int | None:
    """The errcode a fault switch imposes on this call, if any (the switch is consumed).

    Counters read as zero are not written to, so calls without faults take no write lock here.
    """
    for counter, errcode in COUNTERS.items():
        if getattr(current, counter) > 0 and take(counter):
            return errcode
    return None


def expire_tokens() -> int:
    """Expire every access token now: the next call with one gets 42001."""
    now = utcnow()
    result = db.session.execute(db.update(SandboxToken).where(SandboxToken.expires_at > now)
                                .values(expires_at=now).execution_options(synchronize_session=False))
    return result.rowcount


def update(**values) -> SandboxSettings:
    row = settings()
    for name, value in values.items():
        setattr(row, name, value)
    return row
