"""Recipient selections: parsing pasted and uploaded user ids, and expanding groups to people.

A selection (stored as Campaign.recipients and Audience.recipients) is a plain dict::

    {"users": ["lisi"], "departments": [2], "tags": [1], "all": False,
     "exclude": {"users": [], "departments": [], "tags": []}}

Pure functions only: the directory is passed in, so the rules are testable without a database.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext

from ..directory.tree import Directory

#: WeCom userids: 1-64 bytes of letters, digits, _ - @ . starting with a letter or digit.
USERID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
SEPARATORS = re.compile(r"[\n\r,|，]+")
CSV_COLUMNS = ("userid", "user_id", "user id", "账号")
MAX_ROWS = 100_000


def empty() -> dict:
    return {"users": [], "departments": [], "tags": [], "all": False,
            "exclude": {"users": [], "departments": [], "tags": []}}


def unique(ids) -> list:
    """First occurrence kept; user ids compare case-insensitively, as WeCom does."""
    seen, out = set(), []
    for item in ids:
        key = item.lower() if isinstance(item, str) else item
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def normalize(spec: dict | None) -> dict:
    """A complete selection with duplicates removed, whatever subset of keys was given."""
    spec = spec or {}
    exclude = spec.get("exclude") or {}
    return {
        "users": unique(str(u).strip() for u in spec.get("users", []) if str(u).strip()),
        "departments": unique(int(d) for d in spec.get("departments", [])),
        "tags": unique(int(t) for t in spec.get("tags", [])),
        "all": bool(spec.get("all")),
        "exclude": {
            "users": unique(str(u).strip() for u in exclude.get("users", []) if str(u).strip()),
            "departments": unique(int(d) for d in exclude.get("departments", [])),
            "tags": unique(int(t) for t in exclude.get("tags", [])),
        },
    }


def merge(a: dict, b: dict) -> dict:
    """Everyone in a or b (a saved audience added to a selection); exclusions add up too."""
    a, b = normalize(a), normalize(b)
    merged = {key: a[key] + b[key] for key in ("users", "departments", "tags")}
    merged["all"] = a["all"] or b["all"]
    merged["exclude"] = {key: a["exclude"][key] + b["exclude"][key] for key in a["exclude"]}
    return normalize(merged)


def is_empty(spec: dict) -> bool:
    spec = normalize(spec)
    return not (spec["all"] or spec["users"] or spec["departments"] or spec["tags"])


def describe(spec: dict) -> str:
    """In words: "Everyone", or "2 departments, 1 tag and 14 people, except 3 people"."""
    spec = normalize(spec)

    def counted(part: dict) -> str:
        d, t, u = (len(part[k]) for k in ("departments", "tags", "users"))
        words = [text for count, text in (
            (d, ngettext("%(n)s department", "%(n)s departments", d, n=f"{d:,}")),
            (t, ngettext("%(n)s tag", "%(n)s tags", t, n=f"{t:,}")),
            (u, ngettext("%(n)s person", "%(n)s people", u, n=f"{u:,}"))) if count]
        if len(words) == 3:
            return _("%(first)s, %(middle)s and %(last)s", first=words[0], middle=words[1],
                     last=words[2])
        if len(words) == 2:
            return _("%(first)s and %(last)s", first=words[0], last=words[1])
        return words[0] if words else ""

    text = _("Everyone (@all)") if spec["all"] else counted(spec) or _("Nobody yet")
    excluded = counted(spec["exclude"])
    return _("%(chosen)s, except %(excluded)s", chosen=text, excluded=excluded) if excluded else text


# --- parsing ---------------------------------------------------------------------------------


@dataclass
class Parsed:
    """User ids read from text or a file, and the problems found, each naming its place."""

    userids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def check_userid(value: str) -> str | None:
    """Why value cannot be a WeCom userid, or None when it can."""
    if len(value.encode("utf-8")) > 64:
        return _("is longer than 64 bytes")
    if not USERID.fullmatch(value):
        return _("may only use letters, digits, _ - @ . and must start with a letter or digit")
    return None


def parse_pasted(text: str) -> Parsed:
    """User ids one a line, or separated by commas or |; malformed ones are flagged."""
    parsed = Parsed()
    for number, item in enumerate((s.strip() for s in SEPARATORS.split(text or "")), 1):
        if not item:
            continue
        if problem := check_userid(item):
            parsed.errors.append(_("“%(id)s” (item %(number)s) %(problem)s.", id=item, number=number,
                                   problem=problem))
        else:
            parsed.userids.append(item)
    parsed.userids = unique(parsed.userids)
    return parsed


def parse_csv(data: bytes) -> Parsed:
    """A CSV of user ids: a column named userid (or the first column); errors name the row."""
    parsed = Parsed()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed(errors=[_("The file is not UTF-8 text. Save it as CSV UTF-8 and try again.")])
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_ROWS:
        return Parsed(errors=[_("The file has %(count)s rows; at most %(max)s are read.",
                                count=f"{len(rows):,}", max=f"{MAX_ROWS:,}")])
    header = [c.strip().lower() for c in rows[0]] if rows else []
    column = next((header.index(c) for c in CSV_COLUMNS if c in header), None)
    start = 1 if column is not None else 0
    for number, row in enumerate(rows[start:], start + 1):
        value = (row[column or 0] if len(row) > (column or 0) else "").strip()
        if not value:
            continue
        if problem := check_userid(value):
            parsed.errors.append(_("Row %(number)s: “%(id)s” %(problem)s.", number=number, id=value,
                                   problem=problem))
        else:
            parsed.userids.append(value)
    if not parsed.userids and not parsed.errors:
        parsed.errors.append(_("The file holds no user ids."))
    parsed.userids = unique(parsed.userids)
    return parsed


# --- expansion -------------------------------------------------------------------------------


def _people(part: dict, directory: Directory) -> list[str]:
    users = list(part.get("users", []))
    departments = list(part.get("departments", []))
    for tag in part.get("tags", []):
        tag_users, tag_departments = directory.tags.get(tag, ([], []))
        users += tag_users
        departments += tag_departments
    return users + directory.members(departments)


def expand(spec: dict, directory: Directory) -> list[str]:
    """The people a selection reaches: groups resolved, exclusions removed, no duplicates."""
    spec = normalize(spec)
    people = list(directory.users) if spec["all"] else _people(spec, directory)
    excluded = {u.lower() for u in _people(spec["exclude"], directory)}
    canonical = {u.lower(): u for u in directory.users}  # the directory's spelling wins
    return [canonical.get(u.lower(), u) for u in unique(people) if u.lower() not in excluded]


def unknown_users(spec: dict, directory: Directory) -> list[str]:
    """Named user ids the cached directory does not know (WeCom will likely call them invalid)."""
    known = {u.lower() for u in directory.users}
    return [u for u in normalize(spec)["users"] if u.lower() not in known]
