"""Changes to the directory the pages and the API ask for: a read on first need or on request,
and names imported from the admin console's member export. The caller commits where it says so.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models import DirectoryChange, DirectoryDepartment, DirectoryState, DirectoryUser, audit, utcnow
from . import imports, jobs, snapshot, sync

log = logging.getLogger(__name__)

WAIT_STEP = 0.25  # seconds between looks at a read another process is making


class DirectoryUnavailable(Exception):
    """The directory was never read and could not be read now; the message says why."""


def ensure(*, actor: str = "system") -> None:
    """First need: when the directory was never read, read it now and wait for it (or for the read
    another process is making). :raises WeComError: WeCom refused; :raises DirectoryUnavailable:"""
    if not snapshot.never_read():
        return
    try:
        sync.run(actor=actor)
        return
    except sync.ReadBusy:
        pass
    deadline = time.monotonic() + current_app.config["DIRECTORY_READ_WAIT"]
    while time.monotonic() < deadline:
        db.session.rollback()  # see the other process's commits
        row = snapshot.state()
        if not snapshot.never_read() or row.running_since is None:
            break
        time.sleep(WAIT_STEP)
    if snapshot.never_read():
        row = snapshot.state()
        raise DirectoryUnavailable(row.error or "The directory is still being read; try again shortly.")


def request_read(*, actor: str = "system") -> bool:
    """Queue a whole read (the worker makes it); False when one is already under way. Commits."""
    if reading():
        return False
    db.session.commit()  # the state row, made on first use, must be visible to the job's session
    jobs.read(actor)
    return True


def reading() -> bool:
    row = snapshot.state()
    return row.running_since is not None and utcnow() - row.running_since < sync.STALE_READ


def status() -> dict:
    """What the settings page, the waiting page and ``GET /api/v1/directory`` show."""
    row, counts = snapshot.state(), snapshot.counts()
    interval = current_app.config["DIRECTORY_SYNC_INTERVAL"]
    read_at = snapshot.refreshed_at()
    return {
        "read_at": read_at, "reading": reading(),
        "progress": {"done": row.progress_done, "total": row.progress_total},
        "users": counts.users, "departments": counts.departments, "tags": counts.tags,
        "error": row.error, "error_at": row.error_at, "names_hidden": row.names_hidden,
        "imported_at": row.imported_at, "version": row.version, "sync_interval": interval,
        "next_read_at": read_at + timedelta(seconds=interval) if read_at and interval else None,
        "pending_changes": pending_changes(),
    }


def pending_changes() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(DirectoryChange).where(
        DirectoryChange.applied_at.is_(None)))


def import_export(filename: str, data: bytes, *, actor=None) -> tuple[imports.Matched, list[str]]:
    """Name members and departments from the admin console's member export (the caller commits);
    returns what matched and the rows that could not be used.

    :raises imports.ImportProblem: the file cannot be used; nothing changes.
    """
    export = imports.read_export(filename, data)
    users = dict(db.session.execute(db.select(DirectoryUser.userid, DirectoryUser.departments)).all())
    parents = dict(db.session.execute(db.select(DirectoryDepartment.id, DirectoryDepartment.parent_id)).all())
    matched = imports.match(export, users, parents)
    for userid, name in matched.user_names.items():
        db.session.execute(db.update(DirectoryUser).filter_by(userid=userid).values(name=name[:64]))
    for dept_id, name in matched.department_names.items():
        db.session.execute(db.update(DirectoryDepartment).filter_by(id=dept_id).values(name=name[:64]))
    snapshot.changed()
    db.session.execute(db.update(DirectoryState).filter_by(id=snapshot.STATE_ID).values(imported_at=utcnow()))
    audit("directory_imported", actor=actor, file=filename[:120], users=len(matched.user_names),
          departments=len(matched.department_names))
    log.info("directory names imported from %s: %d members, %d departments", filename,
             len(matched.user_names), len(matched.department_names))
    return matched, export.problems
