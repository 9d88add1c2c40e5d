"""Applying WeCom's ``change_contact`` callbacks to the cached directory, oldest first.

The callback stores each change once (DirectoryChange); the worker applies the pending ones in
(CreateTime, id) order. WeCom's retries deliver changes late and out of order, so each member,
department and tag keeps the CreateTime of the last change applied to it (DirectoryStamp): an older
change is stale. A change older than the start of the last whole read is already in that read. A
change about something the copy lacks reads that thing from WeCom. A new userid (NewUserID) also
moves the person's report history to it.

Each change does its WeCom reads before its first write, so a WeComError leaves nothing half done:
the change stays pending with the error as its outcome and the run stops there, keeping the order;
the next run retries it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..extensions import db
from ..models import (CardEvent, CurrentAnswer, Delivery, DirectoryChange, DirectoryDepartment,
                      DirectoryStamp, DirectoryState, DirectoryTag, DirectoryUser, Respondent, ResponseCode,
                      utcnow)
from ..wecom.client import WeComClient
from ..wecom.errors import ApiError, WeComError
from . import snapshot

log = logging.getLogger(__name__)

#: WeCom's answers for an unknown userid, department id and tag id: gone since the change was made.
NOT_FOUND = {60111, 60123, 40068}
#: Where a userid is kept in the report history: (model, column, one row per campaign and person?).
HISTORY = (
    (Delivery, "userid", True),  # unique (campaign_id, userid)
    (Respondent, "userid", True),  # unique (campaign_id, userid)
    (CurrentAnswer, "userid", True),  # no constraint, but one person's answers must not count twice
    (ResponseCode, "userid", False),
    (CardEvent, "from_user", False),
)

DEPARTMENT_WORDS = {"name": "name", "parent_id": "parent", "sort_order": "order"}

Outcome = tuple[str, bool]  # what applying did, in English; whether the copy changed


def apply_pending(client: WeComClient, *, limit: int = 500) -> int:
    """Apply up to ``limit`` pending changes in CreateTime order and commit (in an app context).

    Returns how many were settled (applied, stale or already in a read); 0 when none were pending,
    the first one is waiting for WeCom, or the directory was never read: then the first whole read
    brings every change so far, and a copy made of changes alone would pass for a read.
    """
    if snapshot.never_read():
        return 0
    pending = db.session.scalars(
        db.select(DirectoryChange).where(DirectoryChange.applied_at.is_(None))
        .order_by(DirectoryChange.create_time, DirectoryChange.id).limit(limit)).all()
    read_started = db.session.scalar(
        db.select(DirectoryState.read_started_at).filter_by(id=snapshot.STATE_ID))
    settled, changed = 0, False
    for change in pending:
        try:
            outcome, did_change = _settle(client, change, read_started)
        except WeComError as exc:
            change.outcome = f"waiting for WeCom: {exc}"[:255]
            log.warning("directory change %s (%s) left pending: %s", change.id, change.change_type, exc)
            break
        change.applied_at, change.outcome = utcnow(), outcome[:255]
        settled, changed = settled + 1, changed or did_change
    if changed:
        snapshot.changed()
    db.session.commit()
    if settled:
        log.info("directory: %d change_contact event(s) applied", settled)
    return settled


def rename_history(old: str, new: str) -> int:
    """Move a person's report history from userid ``old`` to ``new`` (the caller commits).

    One UPDATE per table; a campaign where ``new`` already has a row keeps ``old``'s row as it is.
    Returns the rows moved.
    """
    moved = 0
    for model, name, per_campaign in HISTORY:
        table = model.__table__
        column = table.c[name]
        statement = db.update(table).where(column == old).values({name: new})
        if per_campaign:
            other = table.alias("other")
            statement = statement.where(~db.exists().where(
                other.c.campaign_id == table.c.campaign_id, other.c[name] == new))
        moved += db.session.execute(statement).rowcount
    return moved


# --- one change ----------------------------------------------------------------------------------


def _settle(client: WeComClient, change: DirectoryChange, read_started: datetime | None) -> Outcome:
    data = change.data or {}
    handler, key = HANDLERS.get(change.change_type, (None, None))
    if handler is None:
        return f"ignored: unknown change type {change.change_type}", False
    if data.get(key) is None:
        return f"ignored: no {key}", False
    if read_started is not None and change.create_time < int(read_started.timestamp()):
        return _in_read(data, read_started), False
    return handler(client, change.create_time, data)


def _in_read(data: dict, read_started: datetime) -> str:
    """A read has the directory as it was after the change, but not the report history's userids."""
    when = f"in the read of {read_started.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
    old, new = data.get("user_id"), data.get("new_user_id")
    if old and new and new != old:
        rename_history(old, new)
        return f"{when}; report history moved {old} → {new}"
    return when


def _stamp(kind: str, key) -> DirectoryStamp | None:
    return db.session.get(DirectoryStamp, (kind, str(key)))


def _stale(kind: str, key, create_time: int) -> bool:
    """A later change to the same thing (a deletion included) was applied already."""
    stamp = _stamp(kind, key)
    return stamp is not None and create_time < stamp.create_time


def _set_stamp(kind: str, key, create_time: int, *, deleted: bool = False) -> None:
    stamp = _stamp(kind, key)
    if stamp is None:
        db.session.add(DirectoryStamp(kind=kind, key=str(key), create_time=create_time, deleted=deleted))
    elif create_time >= stamp.create_time:
        stamp.create_time, stamp.deleted = create_time, deleted


def _read(call: Callable, *args) -> dict | None:
    """WeCom's answer, or None when what it names no longer exists."""
    try:
        return call(*args)
    except ApiError as exc:
        if exc.errcode in NOT_FOUND:
            return None
        raise


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- members -------------------------------------------------------------------------------------


@dataclass
class _Member:
    """What a member change will write, gathered (WeCom reads included) before any write."""

    userid: str
    name: str | None
    departments: list[int] | None
    unknown_departments: list[dict] = field(default_factory=list)  # read from WeCom, to insert
    gone: bool = False  # WeCom no longer knows the member


def _member(client: WeComClient, create_time: int, data: dict) -> Outcome:
    """create_user and update_user: the member upserted; a NewUserID renames them first."""
    userid, new = data["user_id"], data.get("new_user_id")
    if _stale("user", userid, create_time):
        return "stale", False
    if new and new != userid:
        return _renamed(client, create_time, data, userid, new)
    plan = _plan_member(client, userid, data, db.session.get(DirectoryUser, userid))
    said, changed = _write_member(plan, create_time)
    return said or f"member {userid} unchanged", changed


def _renamed(client: WeComClient, create_time: int, data: dict, old: str, new: str) -> Outcome:
    newer = _stamp("user", new)
    newer = newer if newer is not None and newer.create_time > create_time else None
    known = db.session.get(DirectoryUser, old) or db.session.get(DirectoryUser, new)
    plan = None if newer else _plan_member(client, new, data, known)
    moved = rename_history(old, new)
    if newer is not None and newer.deleted:  # the new userid was deleted later: the person is gone
        _drop_member(old)
    else:
        _move_member(old, new)
    _set_stamp("user", old, create_time, deleted=True)
    outcome = f"renamed {old} → {new}" + (f", {_n(moved, 'report row')} moved" if moved else "")
    said = _write_member(plan, create_time)[0] if plan is not None else ""
    return outcome + (f"; {said}" if said else ""), True


def _plan_member(client: WeComClient, userid: str, data: dict, known: DirectoryUser | None) -> _Member:
    """The member's name and departments: the change's, else the copy's; WeCom's for a new face."""
    plan = _Member(userid, data.get("name"), data.get("departments"))
    if known is None and (plan.name is None or plan.departments is None):
        read = _read(client.get_user, userid)
        if read is None:
            return _Member(userid, None, None, gone=True)
        plan.name = read.get("name") or plan.name
        plan.departments = [int(d) for d in read.get("department", plan.departments or [])]
    plan.unknown_departments = _read_departments(client, plan.departments or [])
    return plan


def _read_departments(client: WeComClient, ids: list[int]) -> list[dict]:
    """The departments among ``ids`` the copy lacks, as WeCom gives them (gone ones left out)."""
    known = set(db.session.scalars(db.select(DirectoryDepartment.id).where(DirectoryDepartment.id.in_(ids))))
    found = (_read(client.get_department, dept_id) for dept_id in dict.fromkeys(ids) if dept_id not in known)
    return [department for department in found if department is not None]


def _write_member(plan: _Member, create_time: int) -> Outcome:
    """Write what the plan gathered; the phrase is empty when a known member stays as they were."""
    if plan.gone:
        return f"member {plan.userid} is no longer in WeCom", False
    for department in plan.unknown_departments:  # as WeCom has them now: newer than this change
        _put_department(department["id"], department.get("name"), department.get("parentid"),
                        department.get("order"))
        _set_stamp("department", department["id"], create_time)
    row = db.session.get(DirectoryUser, plan.userid)
    _set_stamp("user", plan.userid, create_time)
    if row is None:
        departments = plan.departments or []
        db.session.add(DirectoryUser(userid=plan.userid, name=(plan.name or plan.userid)[:64],
                                     departments=departments, refreshed_at=utcnow()))
        return f"member {plan.userid} added in {_n(len(departments), 'department')}", True
    return _update_member(row, plan), True


def _update_member(row: DirectoryUser, plan: _Member) -> str:
    said = []
    if plan.name and plan.name[:64] != row.name:
        row.name = plan.name[:64]
        said.append("name changed")
    if plan.departments is not None and plan.departments != row.departments:
        joined = [d for d in plan.departments if d not in row.departments]
        left = [d for d in row.departments if d not in plan.departments]
        row.departments = list(plan.departments)
        said += [f"joined {_n(len(joined), 'department')}"] if joined else []
        said += [f"left {_n(len(left), 'department')}"] if left else []
    row.refreshed_at = utcnow()
    return f"member {row.userid} {', '.join(said)}" if said else ""


def _move_member(old: str, new: str) -> None:
    """The copy's member and tag memberships under the new userid (a name that was the old userid
    follows it)."""
    row, existing = db.session.get(DirectoryUser, old), db.session.get(DirectoryUser, new)
    if row is not None:
        if existing is None:
            db.session.add(DirectoryUser(userid=new, name=new if row.name == old else row.name,
                                         departments=list(row.departments), refreshed_at=utcnow()))
        db.session.delete(row)
    for tag in _tags_with_user(old):
        tag.userids = list(dict.fromkeys(new if u == old else u for u in tag.userids))


def _drop_member(userid: str) -> bool:
    """Remove a member and their tag memberships; whether the copy had any of them."""
    row = db.session.get(DirectoryUser, userid)
    if row is not None:
        db.session.delete(row)
    tags = _tags_with_user(userid)
    for tag in tags:
        tag.userids = [u for u in tag.userids if u != userid]
    return row is not None or bool(tags)


def _tags_with_user(userid: str) -> list[DirectoryTag]:
    return [tag for tag in db.session.scalars(db.select(DirectoryTag)) if userid in tag.userids]


def _member_deleted(client: WeComClient, create_time: int, data: dict) -> Outcome:
    userid = data["user_id"]
    if _stale("user", userid, create_time):
        return "stale", False
    existed = _drop_member(userid)
    _set_stamp("user", userid, create_time, deleted=True)
    return f"member {userid} removed" + ("" if existed else " (not in the copy)"), existed


# --- departments ---------------------------------------------------------------------------------


def _department(client: WeComClient, create_time: int, data: dict) -> Outcome:
    """create_party and update_party: upserted; a department the copy lacks is read for what the
    change leaves out."""
    dept_id = data["party_id"]
    if _stale("department", dept_id, create_time):
        return "stale", False
    name, parent, order = data.get("name"), data.get("parent_id"), data.get("order")
    row = db.session.get(DirectoryDepartment, dept_id)
    if row is None and (name is None or parent is None):
        read = _read(client.get_department, dept_id)
        if read is None:
            return f"department {dept_id} is no longer in WeCom", False
        name, parent, order = read.get("name") or name, read.get("parentid", parent), read.get("order", order)
    _set_stamp("department", dept_id, create_time)
    return _put_department(dept_id, name, parent, order), True


def _put_department(dept_id: int, name: str | None, parent: int | None, order: int | None) -> str:
    """Insert or update a department with the values given (None: keep the copy's)."""
    row = db.session.get(DirectoryDepartment, dept_id)
    if row is None:
        db.session.add(DirectoryDepartment(id=dept_id, name=(name or str(dept_id))[:64],
                                           parent_id=parent or 0, sort_order=order or 0, refreshed_at=utcnow()))
        return f"department {dept_id} added"
    changes = {"name": name[:64] if name else None, "parent_id": parent, "sort_order": order}
    changed = [key for key, value in changes.items() if value is not None and getattr(row, key) != value]
    for key in changed:
        setattr(row, key, changes[key])
    row.refreshed_at = utcnow()
    said = ", ".join(DEPARTMENT_WORDS[key] for key in changed)
    return f"department {dept_id} " + (f"{said} changed" if said else "unchanged")


def _department_deleted(client: WeComClient, create_time: int, data: dict) -> Outcome:
    """The department goes; its members keep their other departments, tags lose it."""
    dept_id = data["party_id"]
    if _stale("department", dept_id, create_time):
        return "stale", False
    row = db.session.get(DirectoryDepartment, dept_id)
    if row is not None:
        db.session.delete(row)
    members = [userid for userid, ids in db.session.execute(
        db.select(DirectoryUser.userid, DirectoryUser.departments)) if dept_id in ids]
    for userid in members:
        user = db.session.get(DirectoryUser, userid)
        user.departments = [d for d in user.departments if d != dept_id]
    for tag in db.session.scalars(db.select(DirectoryTag)):
        if dept_id in tag.department_ids:
            tag.department_ids = [d for d in tag.department_ids if d != dept_id]
    _set_stamp("department", dept_id, create_time, deleted=True)
    outcome = f"department {dept_id} removed" + ("" if row is not None else " (not in the copy)")
    return outcome + (f", {_n(len(members), 'member')} left it" if members else ""), True


# --- tags ----------------------------------------------------------------------------------------


def _tag(client: WeComClient, create_time: int, data: dict) -> Outcome:
    """update_tag: members and departments added and removed; a tag the copy lacks is read whole
    (WeCom's answer already holds this change and any later one)."""
    tag_id = data["tag_id"]
    if _stale("tag", tag_id, create_time):
        return "stale", False
    row = db.session.get(DirectoryTag, tag_id)
    if row is None:
        return _read_tag(client, tag_id, create_time)
    add_users, del_users = data.get("add_users") or [], data.get("del_users") or []
    add_parties, del_parties = data.get("add_parties") or [], data.get("del_parties") or []
    row.userids = _edit(row.userids, add_users, del_users)
    row.department_ids = _edit(row.department_ids, add_parties, del_parties)
    row.refreshed_at = utcnow()
    _set_stamp("tag", tag_id, create_time)
    said = [f"{_n(len(add_users), 'member')} added"] if add_users else []
    said += [f"{_n(len(del_users), 'member')} removed"] if del_users else []
    said += [f"{_n(len(add_parties), 'department')} added"] if add_parties else []
    said += [f"{_n(len(del_parties), 'department')} removed"] if del_parties else []
    return f"tag {tag_id}: " + (", ".join(said) if said else "unchanged"), True


def _edit(items: list, added: list, removed: list) -> list:
    kept = [item for item in items if item not in removed]
    return kept + [item for item in dict.fromkeys(added) if item not in kept]


def _read_tag(client: WeComClient, tag_id: int, create_time: int) -> Outcome:
    members = _read(client.tag_members, tag_id)
    if members is None:
        return f"tag {tag_id} is no longer in WeCom", False
    tags = client.list_tags()
    name = next((t.get("tagname") for t in tags if t["tagid"] == tag_id), None) or str(tag_id)
    userids = [member["userid"] for member in members["userlist"]]
    parties = [int(party) for party in members["partylist"]]
    db.session.add(DirectoryTag(id=tag_id, name=name[:64], userids=userids, department_ids=parties,
                                refreshed_at=utcnow()))
    _set_stamp("tag", tag_id, create_time)
    return f"tag {tag_id} read: {_n(len(userids), 'member')}, {_n(len(parties), 'department')}", True


#: ChangeType -> (how it is applied, the field it cannot do without).
HANDLERS: dict[str, tuple[Callable[[WeComClient, int, dict], Outcome], str]] = {
    "create_user": (_member, "user_id"),
    "update_user": (_member, "user_id"),
    "delete_user": (_member_deleted, "user_id"),
    "create_party": (_department, "party_id"),
    "update_party": (_department, "party_id"),
    "delete_party": (_department_deleted, "party_id"),
    "update_tag": (_tag, "tag_id"),
}
