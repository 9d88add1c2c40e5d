"""Login throttling that slows attackers, not owners: attempts counted per account, per address
and per (account, address) pair, in the login_counter table.

Each attempt is counted before its password is checked, by one INSERT ... ON CONFLICT DO UPDATE
SET count = count + 1 ... RETURNING in its own short transaction: attempts in parallel, in any
number of workers and machines, each get a different count, so no more than the limit are ever
checked; a success gives its count back. Delays grow per pair (LOGIN_SLOW_AFTER, doubling from
LOGIN_SLOW_SECONDS up to LOGIN_SLOW_MAX) and a pair is locked out after LOGIN_REFUSE_AFTER; an
address after LOGIN_IP_REFUSE_AFTER over all accounts. An account attacked from many addresses
(LOGIN_ACCOUNT_REFUSE_AFTER) locks out only the addresses that have been failing on it, so its
owner, from an address of their own, still signs in with the right password.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, literal
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import LoginCounter, utcnow
from ..models.base import UTCDateTime

@dataclass(frozen=True)
class Count:
    """One counter after this attempt: the attempts before it in the window, and the window's end."""

    before: int
    ends: datetime


@dataclass(frozen=True)
class Verdict:
    """What an attempt may do: wait this long, then have its password checked, unless locked."""

    wait: float = 0.0
    locked_until: datetime | None = None
    reason: str | None = None  # the scope that locked it

    @property
    def minutes(self) -> int:
        """Whole minutes until the lock ends, at least one: what the login page says."""
        return max(1, math.ceil((self.locked_until - utcnow()).total_seconds() / 60))


def admit(username: str, source: str) -> Verdict:
    """Count this attempt against its pair, address and account, and say what it may do."""
    now = utcnow()
    with db.engine.begin() as connection:
        pair, address, account = [_count_up(connection, scope, subject, now)
                                  for scope, subject in _subjects(username, source)]
    return _verdict(current_app.config, pair, address, account)


def succeeded(username: str, source: str) -> None:
    """The right password: the pair starts afresh, the address and account get the attempt back,
    and counters of windows past are deleted."""
    pair, address, account = _subjects(username, source)
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW"])
    with db.engine.begin() as connection:
        connection.execute(db.delete(LoginCounter).filter_by(scope=pair[0], subject=pair[1]))
        for scope, subject in (address, account):
            connection.execute(db.update(LoginCounter).filter_by(scope=scope, subject=subject)
                               .where(LoginCounter.count > 0).values(count=LoginCounter.count - 1))
    with db.engine.begin() as connection:  # apart: it holds none of the rows above meanwhile
        connection.execute(db.delete(LoginCounter).where(LoginCounter.window_start < since))


def _subjects(username: str, source: str) -> tuple[tuple[str, str], ...]:
    """(scope, subject) of the pair, the address and the account, the order every attempt locks
    their rows in (so two attempts never wait for each other in a circle)."""
    username = username[:64]
    return ("pair", f"{source} {username}"), ("address", source), ("account", username)


def _count_up(connection, scope: str, subject: str, now: datetime) -> Count:
    """Add one to the counter, or start its window anew when the last one is over."""
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW"])
    at_now = literal(now, UTCDateTime())
    over = LoginCounter.window_start < literal(now - window, UTCDateTime())
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(LoginCounter).values(scope=scope, subject=subject, count=1,
                                                    window_start=now)
    statement = statement.on_conflict_do_update(
        index_elements=["scope", "subject"],
        set_={"count": case((over, 1), else_=LoginCounter.count + 1),
              "window_start": case((over, at_now), else_=LoginCounter.window_start)},
    ).returning(LoginCounter.count, LoginCounter.window_start)
    count, start = connection.execute(statement).one()
    return Count(before=count - 1, ends=start + window)


def _verdict(config, pair: Count, address: Count, account: Count) -> Verdict:
    failing = pair.before >= config["LOGIN_SLOW_AFTER"]
    if pair.before >= config["LOGIN_REFUSE_AFTER"]:
        return Verdict(locked_until=pair.ends, reason="pair")
    if address.before >= config["LOGIN_IP_REFUSE_AFTER"]:
        return Verdict(locked_until=address.ends, reason="address")
    attacked = account.before >= config["LOGIN_ACCOUNT_REFUSE_AFTER"]
    if attacked and failing:  # until either window ends: then the address is not failing
        return Verdict(locked_until=min(pair.ends, account.ends), reason="account")
    wait = 0.0
    if failing:
        wait = min(config["LOGIN_SLOW_SECONDS"] * 2 ** (pair.before - config["LOGIN_SLOW_AFTER"]),
                   config["LOGIN_SLOW_MAX"])
    if attacked:
        wait = max(wait, config["LOGIN_SLOW_SECONDS"])
    return Verdict(wait=wait)
