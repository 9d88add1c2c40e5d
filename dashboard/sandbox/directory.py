"""The sandbox's employee directory: seeding, recipient resolution, and the contacts endpoints."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..extensions import db
from ..models import SandboxDepartment, SandboxEmployee, SandboxTag
from . import people
from .answers import Refusal, ok

MAX_LIST_ID_LIMIT = 10000  # user/list_id: rows per page, 1 to this
CURSOR_PREFIX = "sandbox-cursor-"


def seed_directory() -> list[str]:
    """Create the fixed directory once (the caller commits); returns lines to print."""
    if db.session.scalar(db.select(SandboxEmployee.userid).limit(1)) is None:
        db.session.add_all(
            SandboxDepartment(id=i, name=name, name_en=name_en, parent_id=parent, sort_order=order)
            for i, name, name_en, parent, order in people.DEPARTMENTS)
        db.session.add_all(
            SandboxEmployee(userid=u, name=name, departments=depts, position=position,
                            licensed=licensed)
            for u, name, depts, position, licensed in people.EMPLOYEES)
        db.session.add_all(SandboxTag(id=i, name=name, userids=users, department_ids=depts)
                           for i, name, users, depts in people.TAGS)
        db.session.flush()
        verb = "seeded"
    else:
        verb = "kept"
    counts = [db.session.scalar(db.select(db.func.count()).select_from(model))
              for model in (SandboxEmployee, SandboxDepartment, SandboxTag)]
    unlicensed = db.session.scalar(db.select(db.func.count()).select_from(SandboxEmployee)
                                   .filter_by(licensed=False))
    return [f"Sandbox directory {verb}: {counts[0]} employees ({unlicensed} unlicensed) in "
            f"{counts[1]} departments, {counts[2]} tags. Inboxes: /sandbox/"]


def employees() -> list[SandboxEmployee]:
    return db.session.scalars(db.select(SandboxEmployee).order_by(SandboxEmployee.userid)).all()


def by_lower_userid() -> dict[str, SandboxEmployee]:
    """WeCom userids are case-insensitive."""
    return {e.userid.lower(): e for e in employees()}


def subtree(dept_id: int) -> set[int]:
    """The department and every department below it."""
    parents = dict(db.session.execute(db.select(SandboxDepartment.id, SandboxDepartment.parent_id)).all())
    ids = {dept_id} if dept_id in parents else set()
    while more := {d for d, parent in parents.items() if parent in ids} - ids:
        ids |= more
    return ids


def members(dept_ids: set[int]) -> list[SandboxEmployee]:
    return [e for e in employees() if dept_ids & set(e.departments)]


@dataclass
class Resolved:
    """Whom a send or an update reaches, and the ids WeCom lists as invalid."""

    targets: list[str] = field(default_factory=list)  # userids as in the directory
    invalid_users: list[str] = field(default_factory=list)  # lower-cased, as WeCom does
    invalid_parties: list[str] = field(default_factory=list)
    invalid_tags: list[str] = field(default_factory=list)


def resolve(users: list[str], parties: list[str], tags: list[str]) -> Resolved:
    """Expand userids, department ids (with sub-departments) and tag ids into employees."""
    known, out = by_lower_userid(), Resolved()
    if "@all" in users:
        out.targets = [e.userid for e in known.values()]
        return out
    for userid in users:
        if userid.lower() in known:
            out.targets.append(known[userid.lower()].userid)
        else:
            out.invalid_users.append(userid.lower())
    tag_rows = {str(t.id): t for t in db.session.scalars(db.select(SandboxTag))}
    parties = list(parties)
    for tag_id in tags:
        if tag_id not in tag_rows:
            out.invalid_tags.append(tag_id)
            continue
        out.targets += [known[u.lower()].userid for u in tag_rows[tag_id].userids if u.lower() in known]
        parties += [str(p) for p in tag_rows[tag_id].department_ids]
    for party in dict.fromkeys(parties):
        ids = subtree(int(party)) if party.isdigit() else set()
        if not ids:
            out.invalid_parties.append(party)
        out.targets += [e.userid for e in members(ids)]
    out.targets = list(dict.fromkeys(out.targets))
    return out


# --- the contacts endpoints (PROTOCOL: department/*, user/simplelist, user/list, user/list_id,
# user/get, tag/*) ---


def _int_param(query, name: str, errcode: int) -> int:
    value = query.get(name, "")
    if not value.isdigit():
        raise Refusal(errcode, f"invalid {name} {value!r}")
    return int(value)


def _departments(query) -> list[SandboxDepartment]:
    """All departments, or department ``id`` and those below it (60123 for an unknown id)."""
    rows = db.session.scalars(db.select(SandboxDepartment).order_by(
        SandboxDepartment.sort_order.desc(), SandboxDepartment.id)).all()
    if "id" in query:
        ids = subtree(_int_param(query, "id", 60123))
        if not ids:
            raise Refusal(60123, "invalid department id")
        rows = [d for d in rows if d.id in ids]
    return rows


def _department_json(d: SandboxDepartment) -> dict:
    return {"id": d.id, "name": d.name, "name_en": d.name_en, "parentid": d.parent_id,
            "order": d.sort_order, "department_leader": []}


def department_list(query, body) -> dict:
    return ok(department=[_department_json(d) for d in _departments(query)])


def department_simplelist(query, body) -> dict:
    """The tree without names, which WeCom gives every app."""
    return ok(department_id=[{"id": d.id, "parentid": d.parent_id, "order": d.sort_order}
                             for d in _departments(query)])


def department_get(query, body) -> dict:
    department = db.session.get(SandboxDepartment, _int_param(query, "id", 60123))
    if department is None:
        raise Refusal(60123, "invalid department id")
    return ok(department=_department_json(department))


def _department_members(query) -> list[SandboxEmployee]:
    dept_id = _int_param(query, "department_id", 60123)
    ids = subtree(dept_id) if query.get("fetch_child") == "1" else {dept_id}
    if not subtree(dept_id):
        raise Refusal(60123, "invalid department id")
    return members(ids)


def user_simplelist(query, body) -> dict:
    return ok(userlist=[{"userid": e.userid, "name": e.name, "department": e.departments}
                        for e in _department_members(query)])


def _user_json(e: SandboxEmployee) -> dict:
    return {"userid": e.userid, "name": e.name, "department": e.departments,
            "main_department": e.departments[0], "position": e.position, "status": 1}


def user_list(query, body) -> dict:
    return ok(userlist=[_user_json(e) for e in _department_members(query)])


def user_get(query, body) -> dict:
    if not query.get("userid"):
        raise Refusal(41009, "missing userid")
    employee = db.session.scalar(db.select(SandboxEmployee).where(
        db.func.lower(SandboxEmployee.userid) == query["userid"].lower()))  # as WeCom: any case
    if employee is None:
        raise Refusal(60111, "userid not found")
    return ok(**_user_json(employee))


def _page_start(cursor) -> int:
    """Where a user/list_id page starts: 0 without a cursor, 40058 for one never given."""
    if not cursor:
        return 0
    offset = cursor.removeprefix(CURSOR_PREFIX) if isinstance(cursor, str) else ""
    if offset == cursor or not offset.isdigit():
        raise Refusal(40058, "invalid cursor")
    return int(offset)


def user_list_id(query, body) -> dict:
    """Every member's departments, a row each, in pages of up to ``limit`` rows."""
    limit, start = body.get("limit", MAX_LIST_ID_LIMIT), _page_start(body.get("cursor"))
    if type(limit) is not int or not 1 <= limit <= MAX_LIST_ID_LIMIT:
        raise Refusal(40058, f"invalid limit {limit!r}, 1 to {MAX_LIST_ID_LIMIT}")
    rows = [{"userid": e.userid, "department": d} for e in employees() for d in e.departments]
    end = start + limit
    return ok(next_cursor=f"{CURSOR_PREFIX}{end}" if end < len(rows) else "",
              dept_user=rows[start:end])


def tag_list(query, body) -> dict:
    tags = db.session.scalars(db.select(SandboxTag).order_by(SandboxTag.id))
    return ok(taglist=[{"tagid": t.id, "tagname": t.name} for t in tags])


def tag_get(query, body) -> dict:
    tag = db.session.get(SandboxTag, _int_param(query, "tagid", 40068))
    if tag is None:
        raise Refusal(40068, "invalid tagid")
    names = {e.userid: e.name for e in employees()}
    return ok(tagname=tag.name, partylist=tag.department_ids,
              userlist=[{"userid": u, "name": names.get(u, u)} for u in tag.userids])
