"""Who may sign in with WeCom, and as whom: the user linked to the member's userid; else, on a
first sign-in, a new user made by a role grant to the member's department (or one above it) or
tag, or by WECOM_ADMINS; nobody else. Grants are added and removed here too. Audited; the caller
commits.

The directory is read from its cached tables (the directory feature builds on this one): a member
the cache does not know yet is in no department and no tag.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..config import wecom_admins
from ..extensions import db
from ..models import (
    GRANT_KINDS, ROLE_RANK, DirectoryDepartment, DirectoryTag, DirectoryUser, RoleGrant, User, audit,
)
from . import service


class Refused(Exception):
    """Nobody to sign in as; ``reason`` is the audit log's word for why (deactivated, ambiguous,
    not_allowed)."""

    def __init__(self, reason: str, userid: str):
        super().__init__(reason, userid)
        self.reason, self.userid = reason, userid


class GrantError(ValueError):
    """Refused: the grant is there already."""


def account_for(userid: str) -> User:
    """The user a WeCom member signs in as (made on a first sign-in through a grant or
    WECOM_ADMINS); raises Refused. A user a grant let in keeps following the grants: their role
    is that of the highest grant covering them now, and with none left they are refused."""
    linked = linked_users(userid)
    if len(linked) > 1:
        raise Refused("ambiguous", userid)
    if not linked:
        return _first_sign_in(userid)
    user = linked[0]
    if not user.active:
        raise Refused("deactivated", userid)
    if user.granted_by_id is not None:
        _follow_grants(user, userid)
    return user


def linked_users(userid: str) -> list[User]:
    """The users whose WeCom userid is this one (WeCom's userids ignore case)."""
    return db.session.scalars(db.select(User).where(
        db.func.lower(User.wecom_userid) == userid.lower()).order_by(User.id)).all()


def _first_sign_in(userid: str) -> User:
    """A new user for a member of WECOM_ADMINS (an admin) or one a grant covers (its role)."""
    member = _member(userid)
    userid = member.userid if member else userid
    if userid.lower() in {u.lower() for u in wecom_admins(current_app.config)}:
        return _made(userid, "admin", None, via="wecom_admins")
    grants = covering_grants(userid)
    if not grants:
        raise Refused("not_allowed", userid)
    return _made(userid, grants[0].role, grants[0], via="grant")


def _made(userid: str, role: str, grant: RoleGrant | None, *, via: str) -> User:
    """The member's user: username their userid, linked, signing in with WeCom only (an unusable
    random password, password sign-in off until an admin gives them one)."""
    member = _member(userid)
    try:
        with db.session.begin_nested():
            return service.create_user(_free_username(userid), role, None, wecom_userid=userid,
                                       password_login=False, granted_by=grant, actor="wecom", via=via,
                                       name=member.name if member else None)
    except IntegrityError:  # the same member's sign-in in another tab made it a moment ago
        return account_for(userid)


def _free_username(userid: str) -> str:
    """The userid as the username, unless a local account has it (then with -wecom, -wecom1...)."""
    taken = set(db.session.scalars(db.select(User.username).where(User.username.startswith(userid[:50]))))
    candidates = [userid] + [f"{userid[:50]}-wecom{n or ''}" for n in range(100)]
    return next(name for name in candidates if name not in taken)


def _follow_grants(user: User, userid: str) -> None:
    """A user a grant let in rests on the highest grant covering them now and takes its role (a
    new role ends their other sign-ins; the last active admin keeps theirs), or is Refused
    without one."""
    grants = covering_grants(userid)
    if not grants:
        raise Refused("not_allowed", userid)
    user.granted_by_id = grants[0].id
    try:
        service.update_user(user, role=grants[0].role, active=True, password=None, by_hand=False,
                            actor="wecom")
    except service.LastAdminError:  # the last admin stays one: an admin is never locked out
        pass


def covering_grants(userid: str) -> list[RoleGrant]:
    """The grants covering a member, the highest role first (then the oldest grant)."""
    member = _member(userid)
    grants = db.session.scalars(db.select(RoleGrant)).all()
    if member is None or not grants:
        return []
    departments = _with_ancestors(member.departments or [])
    tags = {t.id: t for t in db.session.scalars(db.select(DirectoryTag).where(
        DirectoryTag.id.in_([g.wecom_id for g in grants if g.kind == "tag"])))}
    covering = [g for g in grants if (g.kind == "department" and g.wecom_id in departments) or (
        g.kind == "tag" and g.wecom_id in tags and _tagged(tags[g.wecom_id], member.userid, departments))]
    return sorted(covering, key=lambda g: (-ROLE_RANK[g.role], g.id))


def _member(userid: str) -> DirectoryUser | None:
    return db.session.scalar(db.select(DirectoryUser).where(
        db.func.lower(DirectoryUser.userid) == userid.lower()).limit(1))


def _with_ancestors(departments: list[int]) -> set[int]:
    """The member's departments and every department above them: a grant to a department covers
    those below it."""
    parents = dict(db.session.execute(db.select(DirectoryDepartment.id, DirectoryDepartment.parent_id)).all())
    found, todo = set(), list(departments)
    while todo:
        department = todo.pop()
        if department not in found:
            found.add(department)
            if parents.get(department):
                todo.append(parents[department])
    return found


def _tagged(tag: DirectoryTag, userid: str, departments: set[int]) -> bool:
    """In the tag by name, or through one of its departments (or one below it)."""
    return userid.lower() in {u.lower() for u in tag.userids or []} or bool(
        departments & set(tag.department_ids or []))


# --- grants ---


def grants() -> list[RoleGrant]:
    return db.session.scalars(db.select(RoleGrant).order_by(RoleGrant.kind, RoleGrant.wecom_id)).all()


def grant_name(grant: RoleGrant) -> str | None:
    """The department's or tag's name in the cached directory (None: not there, or no name)."""
    model = DirectoryDepartment if grant.kind == "department" else DirectoryTag
    return db.session.scalar(db.select(model.name).filter_by(id=grant.wecom_id)) or None


def group_names() -> list[str]:
    """The names of the cached directory's departments and tags, for the grant form's suggestions."""
    names = db.session.scalars(db.select(DirectoryDepartment.name).union(db.select(DirectoryTag.name)))
    return sorted(name for name in names if name)


def users_by_grant() -> dict[int, int]:
    """How many users each grant let in (and still rest on it)."""
    return dict(db.session.execute(db.select(User.granted_by_id, db.func.count())
                                   .where(User.granted_by_id.is_not(None)).group_by(User.granted_by_id)).all())


def add_grant(kind: str, wecom_id: int, role: str, *, actor=None) -> RoleGrant:
    """A role for everyone in a department (and below it) or with a tag, from their next sign-in."""
    if kind not in GRANT_KINDS or role not in ROLE_RANK:
        raise ValueError(f"kind must be one of {GRANT_KINDS} and role one of {tuple(ROLE_RANK)}")
    if db.session.scalar(db.select(RoleGrant.id).filter_by(kind=kind, wecom_id=wecom_id)):
        raise GrantError(kind)
    grant = RoleGrant(kind=kind, wecom_id=wecom_id, role=role,
                      created_by_id=getattr(actor, "id", None))
    db.session.add(grant)
    db.session.flush()
    audit("role_grant_added", grant, actor=actor, kind=kind, wecom_id=wecom_id, role=role)
    return grant


def remove_grant(grant: RoleGrant, *, actor=None) -> list[User]:
    """Remove a grant. The users it let in move to another grant covering them (its role; their
    sign-ins end when the role changes) or, with none, are deactivated: signed out everywhere,
    their API tokens revoked. Returns the users deactivated."""
    users = db.session.scalars(db.select(User).filter_by(granted_by_id=grant.id)).all()
    audit("role_grant_removed", grant, actor=actor, kind=grant.kind, wecom_id=grant.wecom_id,
          role=grant.role, users=len(users))
    db.session.delete(grant)
    db.session.flush()
    ended = []
    for user in users:
        others = covering_grants(user.wecom_userid or "")
        if others:
            user.granted_by_id = others[0].id
            service.update_user(user, role=others[0].role, active=user.active, password=None, actor=actor,
                                by_hand=False)
        else:
            service.update_user(user, role=user.role, active=False, password=None, actor=actor,
                                by_hand=False)
            ended.append(user)
    return ended
