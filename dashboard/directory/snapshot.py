"""The cached WeCom directory as the rest of the app reads it: the picker's lists, expansion's
:class:`~.tree.Directory`, counts, and the state of its reads (:class:`DirectoryState`, one row).

Every change to the cached copy (a read, an applied ``change_contact`` event, an import) bumps
``DirectoryState.version`` in the same transaction, so a campaign's check can tell whether the
copy it expanded has changed since (campaigns/queries.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import DirectoryChange, DirectoryDepartment, DirectoryState, DirectoryTag, DirectoryUser
from ..paging import Page
from .tree import Directory

STATE_ID = 1


def state() -> DirectoryState:
    """The state row, made on first use (a fresh database has none)."""
    row = db.session.get(DirectoryState, STATE_ID)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = DirectoryState(id=STATE_ID, version=0, progress_done=0, progress_total=0,
                                 names_hidden=False)
            db.session.add(row)
    except IntegrityError:  # another request made it meanwhile
        row = db.session.get(DirectoryState, STATE_ID)
    return row


def version() -> int:
    return db.session.scalar(db.select(DirectoryState.version).filter_by(id=STATE_ID)) or 0


def changed() -> None:
    """Count one change to the cached copy (in the caller's transaction)."""
    state()
    db.session.execute(db.update(DirectoryState).filter_by(id=STATE_ID).values(
        version=DirectoryState.version + 1))


def refreshed_at() -> datetime | None:
    """When the copy was last read whole (None: never; then first need reads it)."""
    read_at = db.session.scalar(db.select(DirectoryState.read_at).filter_by(id=STATE_ID))
    # a copy read before the state row existed (an upgraded install) counts as read
    return read_at or db.session.scalar(db.select(db.func.max(DirectoryDepartment.refreshed_at)))


def never_read() -> bool:
    return refreshed_at() is None


@dataclass(frozen=True)
class Counts:
    users: int
    departments: int
    tags: int


def counts() -> Counts:
    def count(model) -> int:
        return db.session.scalar(db.select(db.func.count()).select_from(model))

    return Counts(count(DirectoryUser), count(DirectoryDepartment), count(DirectoryTag))


def load() -> Directory:
    """The cache in the shape recipients.expand() wants."""
    children: dict[int, list[int]] = {}
    for dept_id, parent in db.session.execute(
            db.select(DirectoryDepartment.id, DirectoryDepartment.parent_id)):
        children.setdefault(parent, []).append(dept_id)
    users = dict(db.session.execute(db.select(DirectoryUser.userid, DirectoryUser.departments)).all())
    tags = {t.id: (t.userids, t.department_ids) for t in db.session.scalars(db.select(DirectoryTag))}
    return Directory(users=users, children=children, tags=tags)


def department_tree() -> list[tuple[DirectoryDepartment, int]]:
    """Departments in tree order, each with its depth, for an indented picker."""
    rows = db.session.scalars(db.select(DirectoryDepartment).order_by(
        DirectoryDepartment.sort_order.desc(), DirectoryDepartment.id)).all()
    by_parent: dict[int, list[DirectoryDepartment]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    ids = {row.id for row in rows}
    out: list[tuple[DirectoryDepartment, int]] = []
    todo = [(row, 0) for row in reversed([r for r in rows if r.parent_id not in ids])]
    while todo:
        row, depth = todo.pop()
        out.append((row, depth))
        todo.extend((child, depth + 1) for child in reversed(by_parent.get(row.id, [])))
    return out


def tags() -> list[DirectoryTag]:
    return db.session.scalars(db.select(DirectoryTag).order_by(DirectoryTag.name)).all()


def users() -> list[DirectoryUser]:
    return db.session.scalars(db.select(DirectoryUser).order_by(DirectoryUser.name)).all()


def user_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(DirectoryUser))


def members(*, department: int | None = None, tag: int | None = None, q: str = "", page: int = 1,
            per_page: int = 50) -> Page:
    """Members of a department (with those below it) and/or a tag, whose userid or name contains
    ``q``, sorted by name; one page of them. Filtered here, not in SQL: department lists are JSON."""
    rows = users()
    if department is not None or tag is not None:
        tree = load()
        if department is not None:
            inside = set(tree.members([department]))
            rows = [u for u in rows if u.userid in inside]
        if tag is not None:
            tag_users, tag_departments = tree.tags.get(tag, ([], []))
            inside = {u.lower() for u in tag_users} | {u.lower() for u in tree.members(tag_departments)}
            rows = [u for u in rows if u.userid.lower() in inside]
    if needle := q.strip().lower():
        rows = [u for u in rows if needle in u.userid.lower() or needle in u.name.lower()]
    start = (page - 1) * per_page
    return Page(rows[start:start + per_page], page, per_page, len(rows))


def names() -> dict[str, str]:
    """Every member's name by userid (one query; pages cache it per request: views.person)."""
    return dict(db.session.execute(db.select(DirectoryUser.userid, DirectoryUser.name)).all())


def department_names() -> dict[int, str]:
    return dict(db.session.execute(db.select(DirectoryDepartment.id, DirectoryDepartment.name)).all())


def recent_changes(limit: int = 50) -> list[DirectoryChange]:
    """WeCom's latest change_contact events, newest first, applied or waiting."""
    return db.session.scalars(db.select(DirectoryChange).order_by(DirectoryChange.id.desc()).limit(limit)).all()
