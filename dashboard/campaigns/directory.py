"""The cached WeCom directory: refreshed through the contacts API, read by the recipient picker.

In sandbox mode the API base is the sandbox, so the same code reads the sandbox's directory.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ..extensions import db
from ..models import DirectoryDepartment, DirectoryTag, DirectoryUser, utcnow
from ..wecom.client import WeComClient
from .recipients import Directory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshResult:
    departments: int
    users: int
    tags: int


def refresh(client: WeComClient, *, actor: str = "system") -> RefreshResult:
    """Replace the cache with what the contacts API returns now (the caller commits).

    :raises WeComError: the API refused or did not answer; the old cache is kept.
    """
    departments, users, tags = _fetch(client)
    now = utcnow()
    for model in (DirectoryDepartment, DirectoryUser, DirectoryTag):
        db.session.execute(db.delete(model))
    db.session.add_all(
        DirectoryDepartment(id=d["id"], name=d.get("name", str(d["id"])), refreshed_at=now,
                            parent_id=d.get("parentid", 0), sort_order=d.get("order", 0))
        for d in departments)
    db.session.add_all(
        DirectoryUser(userid=u["userid"], name=u.get("name") or u["userid"], refreshed_at=now,
                      departments=list(u.get("department", [])))
        for u in users)
    db.session.add_all(
        DirectoryTag(id=t["tagid"], name=t["tagname"], refreshed_at=now,
                     userids=[m["userid"] for m in members["userlist"]],
                     department_ids=[int(p) for p in members["partylist"]])
        for t, members in tags)
    log.info("directory refreshed by %s: %d departments, %d users, %d tags",
             actor, len(departments), len(users), len(tags))
    return RefreshResult(len(departments), len(users), len(tags))


def _fetch(client: WeComClient) -> tuple[list[dict], list[dict], list[tuple[dict, dict]]]:
    """Departments, members (each once, from the top departments down) and tags with members."""
    departments = client.list_departments()
    ids = {d["id"] for d in departments}
    users: dict[str, dict] = {}
    for root in (d["id"] for d in departments if d.get("parentid") not in ids):
        for user in client.list_department_users(root, fetch_child=True):
            users.setdefault(user["userid"], user)
    tags = [(t, client.tag_members(t["tagid"])) for t in client.list_tags()]
    return departments, list(users.values()), tags


def refreshed_at() -> datetime | None:
    return db.session.scalar(db.select(db.func.max(DirectoryDepartment.refreshed_at)))


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
