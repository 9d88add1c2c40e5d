"""The directory's background jobs: a whole read on request, and the periodic one that re-reads
it every DIRECTORY_SYNC_INTERVAL seconds and applies WeCom's ``change_contact`` events."""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from .. import tasks, wecom_app
from ..extensions import db
from ..wecom.errors import WeComError
from . import changes, sync

log = logging.getLogger(__name__)

# The names queued work carries: never change them.
READ = "dashboard.directory.jobs.read"
APPLY = "dashboard.directory.jobs.apply"
SYNC = "dashboard.directory.jobs.sync"


def init_app(app) -> None:
    tasks.job(app, READ, _read)
    tasks.job(app, APPLY, _apply)
    tasks.job(app, SYNC, _sync, periodic=True)


def read(actor: str = "system") -> None:
    tasks.enqueue(READ, actor)


def apply_soon() -> None:
    """Queue applying the pending change_contact events (the periodic job is the safety net)."""
    tasks.enqueue(APPLY)


def _read(actor: str) -> None:
    """A whole read, then the changes WeCom made since it began (sync.run leaves them pending)."""
    try:
        sync.run(actor=actor)
    except sync.ReadBusy:
        log.info("directory read requested by %s: another read is under way", actor)
        return
    except WeComError:
        return  # recorded on the state row and logged by sync.run
    _apply()


def _apply() -> None:
    """Apply what is pending; a run racing another (both stamping one member) yields to it."""
    try:
        while changes.apply_pending(wecom_app.client()):
            pass
    except WeComError as exc:
        log.warning("directory changes left pending: %s", exc)
    except IntegrityError:
        db.session.rollback()
        log.info("directory changes applied by another run meanwhile; the next run goes on")


def _sync() -> None:
    if sync.due():
        _read("schedule")
    _apply()
