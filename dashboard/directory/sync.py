"""Reading the whole directory from WeCom and replacing the cached copy with it, in one transaction.

The read follows what WeCom documents today: the department tree from ``department/simplelist``
(names, where the app may see them, from ``department/list``); every member with their departments
from ``user/list_id`` page by page where WeCom allows it (the contacts-sync secret), and each
department's own members from ``user/simplelist?department_id=`` (no ``fetch_child``, which the
current documentation no longer offers), a few departments at a time; then the tags and their
members. A department's subtree is expanded by us (tree.Directory), never by WeCom.

A failed read changes nothing but the state row: the last good copy stays, with the error beside it.
Only one read runs at a time, across processes: it holds ``DirectoryState.running_since``.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app

from .. import wecom_app
from ..extensions import db
from ..models import (DirectoryChange, DirectoryDepartment, DirectoryStamp, DirectoryState,
                      DirectoryTag, DirectoryUser, audit, utcnow)
from ..wecom.client import WeComClient
from ..wecom.errors import ApiError, WeComError
from . import snapshot

log = logging.getLogger(__name__)

LIST_ID_REFUSED = {48002, 48009, 60011, 60020}  # no permission, no API, not in range, IP not allowed
STALE_READ = timedelta(minutes=15)  # a read whose process died frees the lock after this
PROGRESS_EVERY = 0.5  # seconds between progress writes

Progress = Callable[[int, int], None]


@dataclass
class Fetched:
    """One whole read, before it is written."""

    departments: list[dict] = field(default_factory=list)  # id, parentid, order, name (or None)
    users: dict[str, dict] = field(default_factory=dict)  # userid -> {"name", "departments"}
    tags: list[dict] = field(default_factory=list)  # tagid, tagname, userids, partyids

    @property
    def names_hidden(self) -> bool:
        """WeCom gave ids without names: apps made after mid-2022 without the contacts permission."""
        return bool(self.users) and not any(u["name"] for u in self.users.values())


@dataclass(frozen=True)
class ReadResult:
    departments: int
    users: int
    tags: int
    names_hidden: bool


class ReadBusy(Exception):
    """Another process is reading the directory now."""


def fetch(client: WeComClient, *, concurrency: int = 4, progress: Progress = lambda done, total: None
          ) -> Fetched:
    """Everything the app may see of the directory. :raises WeComError: the read failed."""
    out = Fetched()
    names = _department_names(client)
    out.departments = [{**d, "name": names.get(d["id"])} for d in client.list_department_ids()]
    memberships = _memberships(client)
    tags = client.list_tags()
    total, done = len(out.departments) + len(tags), 0
    progress(done, total)
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="directory") as pool:
        for members in pool.map(client.list_department_users, [d["id"] for d in out.departments]):
            for member in members:
                user = out.users.setdefault(member["userid"], {"name": None, "departments": []})
                user["name"] = user["name"] or member.get("name") or None
                _join(user, member.get("department") or [])
            done += 1
            progress(done, total)
        for tag, members in zip(tags, pool.map(client.tag_members, [t["tagid"] for t in tags])):
            out.tags.append({"tagid": tag["tagid"], "tagname": tag.get("tagname") or str(tag["tagid"]),
                             "userids": [m["userid"] for m in members["userlist"]],
                             "partyids": [int(p) for p in members["partylist"]]})
            done += 1
            progress(done, total)
    for userid, departments in (memberships or {}).items():  # the authoritative membership
        user = out.users.setdefault(userid, {"name": None, "departments": []})
        user["departments"] = departments
    return out


def _department_names(client: WeComClient) -> dict[int, str]:
    """Department names where the app may read them; none for newer apps without the permission."""
    try:
        return {d["id"]: d["name"] for d in client.list_departments() if d.get("name")}
    except ApiError as exc:
        log.info("department names not readable (%s); departments are shown by id", exc.errcode)
        return {}


def _memberships(client: WeComClient) -> dict[str, list[int]] | None:
    """userid -> department ids from ``user/list_id``, every page; None where WeCom refuses it."""
    memberships: dict[str, list[int]] = {}
    cursor = None
    try:
        while True:
            rows, cursor = client.list_user_ids(cursor)
            for row in rows:
                _join_ids(memberships.setdefault(row["userid"], []), [row["department"]])
            if not cursor:
                return memberships
    except ApiError as exc:
        if exc.errcode not in LIST_ID_REFUSED:
            raise
        log.info("user/list_id refused (%s); members come from each department", exc.errcode)
        return None


def _join(user: dict, departments) -> None:
    _join_ids(user["departments"], departments)


def _join_ids(ids: list[int], more) -> None:
    ids.extend(int(d) for d in more if int(d) not in ids)


def replace(fetched: Fetched, now: datetime) -> None:
    """Swap the cached copy for ``fetched`` in the caller's transaction. Names WeCom withheld keep
    what the copy had (an earlier read or an import), else the id stands in."""
    old_users = dict(db.session.execute(db.select(DirectoryUser.userid, DirectoryUser.name)).all())
    old_departments = dict(db.session.execute(
        db.select(DirectoryDepartment.id, DirectoryDepartment.name)).all())
    rows = {
        DirectoryDepartment: [
            {"id": d["id"], "name": (d["name"] or old_departments.get(d["id"]) or str(d["id"]))[:64],
             "parent_id": d.get("parentid") or 0, "sort_order": d.get("order") or 0, "refreshed_at": now}
            for d in fetched.departments],
        DirectoryUser: [
            {"userid": userid, "name": (u["name"] or old_users.get(userid) or userid)[:64],
             "departments": u["departments"], "refreshed_at": now}
            for userid, u in fetched.users.items()],
        DirectoryTag: [
            {"id": t["tagid"], "name": t["tagname"][:64], "userids": t["userids"],
             "department_ids": t["partyids"], "refreshed_at": now}
            for t in fetched.tags],
    }
    # Built before the first write, and written by Core's many-row INSERTs rather than as ORM
    # objects: SQLite's write lock is held about 2 s for 100,000 members instead of 6-7, longer
    # than its 5 s busy timeout (callbacks and sends waiting to write would fail meanwhile).
    for model in rows:
        db.session.execute(db.delete(model))
    for model, values in rows.items():
        for start in range(0, len(values), 10_000):
            db.session.execute(db.insert(model), values[start:start + 10_000])


def run(*, actor: str = "system", client: WeComClient | None = None) -> ReadResult:
    """Read the whole directory now and replace the copy (commits).

    :raises ReadBusy: another process is reading it; :raises WeComError: the read failed (the copy
        is kept and the error recorded on the state row).
    """
    started = _claim()
    client = client or wecom_app.client()
    try:
        fetched = fetch(client, concurrency=current_app.config["DIRECTORY_READ_CONCURRENCY"],
                        progress=_progress_writer())
    except WeComError as exc:
        db.session.rollback()
        reason = str(exc)
        _finish(error=reason[:2000], error_at=utcnow())
        log.warning("directory read by %s failed, the last good copy is kept: %s", actor, reason)
        raise
    except BaseException:
        db.session.rollback()
        _finish()
        raise
    now = utcnow()
    replace(fetched, now)
    _forget_stamps(started)
    _reopen_changes(started)
    db.session.execute(db.update(DirectoryState).filter_by(id=snapshot.STATE_ID).values(
        read_at=now, read_started_at=started, running_since=None, error=None, error_at=None,
        names_hidden=fetched.names_hidden, version=DirectoryState.version + 1))
    result = ReadResult(len(fetched.departments), len(fetched.users), len(fetched.tags),
                        fetched.names_hidden)
    audit("directory_refreshed", actor=actor, departments=result.departments, users=result.users,
          tags=result.tags)
    db.session.commit()
    log.info("directory read by %s: %d departments, %d members, %d tags%s", actor, result.departments,
             result.users, result.tags, " (no names: contacts permission missing)" if result.names_hidden
             else "")
    return result


def _claim() -> datetime:
    """Take the read lock (commits); :raises ReadBusy: another read holds it."""
    snapshot.state()
    now = utcnow()
    taken = db.session.execute(db.update(DirectoryState).filter_by(id=snapshot.STATE_ID).where(
        db.or_(DirectoryState.running_since.is_(None), DirectoryState.running_since < now - STALE_READ)
    ).values(running_since=now, progress_done=0, progress_total=0)).rowcount
    db.session.commit()
    if not taken:
        raise ReadBusy()
    return now


def _finish(**values) -> None:
    db.session.execute(db.update(DirectoryState).filter_by(id=snapshot.STATE_ID).values(
        running_since=None, **values))
    db.session.commit()


def _progress_writer() -> Progress:
    """Writes progress for the waiting page, at most every PROGRESS_EVERY seconds (and at the end)."""
    last = [0.0]

    def write(done: int, total: int) -> None:
        if done < total and time.monotonic() - last[0] < PROGRESS_EVERY:
            return
        last[0] = time.monotonic()
        db.session.execute(db.update(DirectoryState).filter_by(id=snapshot.STATE_ID).values(
            progress_done=done, progress_total=total))
        db.session.commit()

    return write


def _forget_stamps(started: datetime) -> None:
    """Changes WeCom made before this read began are in it: their stamps are no longer needed
    (apply_pending settles those changes, moving a renamed member's history too)."""
    db.session.execute(db.delete(DirectoryStamp).where(DirectoryStamp.create_time < int(started.timestamp())))


def _reopen_changes(started: datetime) -> None:
    """Changes WeCom made after this read began may be missing from it (it may have listed their
    department before), yet some were applied to the copy the read replaces: they are pending
    again, to be applied on top of the new copy (applying a change twice is harmless)."""
    db.session.execute(db.update(DirectoryChange).where(
        DirectoryChange.create_time >= int(started.timestamp()), DirectoryChange.applied_at.is_not(None)
    ).values(applied_at=None, outcome=None))


def due(now: datetime | None = None) -> bool:
    """Is a periodic read due? Every DIRECTORY_SYNC_INTERVAL seconds (0: never); after a failure,
    retried after a fifth of that (at most 10 minutes) so a WeCom outage is not hammered, or
    after 30 s while the directory was never read (the worker may start before the web server
    that serves the sandbox)."""
    now, row = now or utcnow(), snapshot.state()
    interval = timedelta(seconds=current_app.config["DIRECTORY_SYNC_INTERVAL"])
    if not interval:
        return False
    if row.running_since is not None and now - row.running_since < STALE_READ:
        return False
    backoff = timedelta(seconds=30) if row.read_at is None else min(interval / 5, timedelta(minutes=10))
    if row.error_at is not None and now - row.error_at < backoff:  # the first read is retried soon
        return False
    return row.read_at is None or now - row.read_at >= interval
