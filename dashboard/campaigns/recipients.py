"""Recipient selections: parsing pasted and uploaded user ids, and expanding groups to people.

A selection (stored as Campaign.recipients and Audience.recipients) is a plain dict::

    {"users": ["lisi"], "departments": [2], "tags": [1], "all": False,
     "exclude": {"users": [], "departments": [], "tags": []}}

Pure functions only: the directory is passed in, so the rules are testable without a database.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext

from ..directory.tree import Directory

#: WeCom userids: 1-64 bytes of letters, digits, _ - @ . starting with a letter or digit.
USERID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
SEPARATORS = re.compile(r"[\n\r,|，]+")
CSV_COLUMNS = ("userid", "user_id", "user id", "账号", "name", "姓名")  # in order of preference
MAX_ROWS = 100_000
SHOWN_PROBLEMS = 20  # lines left out, listed
SHOWN_CHARS = 80  # of each line echoed
#: a value without any of these (张三) was meant as a name: "not found" says more than a userid rule
USERID_CHARS = re.compile(r"[A-Za-z0-9]")


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
class Ambiguous:
    """A name that more than one member has: the person picks which one was meant."""

    line: int
    name: str
    userids: list[str]


@dataclass
class Parsed:
    """User ids read from text or a file, and the lines left out, each naming its line."""

    userids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ambiguous: list[Ambiguous] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Every line left out, in words: malformed or unknown ones, then ambiguous names."""
        return self.errors + [
            ngettext("Line %(line)s: “%(name)s” is the name of %(num)s member; choose one.",
                     "Line %(line)s: “%(name)s” is the name of %(num)s members; choose one.",
                     len(a.userids), line=a.line, name=a.name) for a in self.ambiguous]


def shortlist(problems: list[str]) -> list[str]:
    """The first SHOWN_PROBLEMS problems, then how many more there are."""
    shown = problems[:SHOWN_PROBLEMS]
    if len(problems) > SHOWN_PROBLEMS:
        shown.append(_("… and %(n)s more.", n=len(problems) - SHOWN_PROBLEMS))
    return shown


def cut(text: str, limit: int = SHOWN_CHARS) -> str:
    """text, at most ``limit`` characters (a pasted novel is not echoed whole)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_userid(value: str) -> str | None:
    """Why value cannot be a WeCom userid, or None when it can."""
    if len(value.encode("utf-8")) > 64:
        return _("is longer than 64 bytes")
    if not USERID.fullmatch(value):
        return _("may only use letters, digits, _ - @ . and must start with a letter or digit")
    return None


class _Reader:
    """Reads values one line at a time into a Parsed, looking names up in ``names``
    (userid -> name, the cached directory's) when a value is not a userid."""

    def __init__(self, names: dict[str, str] | None):
        self.parsed = Parsed()
        self.known = {u.lower() for u in names or {}}
        self.by_name: dict[str, list[str]] = {}
        for userid, name in (names or {}).items():
            if name and name != userid:
                self.by_name.setdefault(name.strip().lower(), []).append(userid)

    def add(self, line: int, value: str) -> None:
        if value.lower() in self.known:
            self.parsed.userids.append(value)
        elif matches := self.by_name.get(value.lower()):
            if len(matches) == 1:
                self.parsed.userids.append(matches[0])
            else:
                self.parsed.ambiguous.append(Ambiguous(line, cut(value), sorted(matches)))
        elif problem := check_userid(value):
            if self.by_name and not USERID_CHARS.search(value):
                problem = _("is not a user id, nor the name of a member in the directory")
            self.flag(line, value, problem)
        else:
            self.parsed.userids.append(value)

    def flag(self, line: int, value: str, problem: str) -> None:
        self.parsed.errors.append(_("Line %(number)s: “%(id)s” %(problem)s.", number=line,
                                    id=cut(value), problem=problem))

    def done(self) -> Parsed:
        self.parsed.userids = unique(self.parsed.userids)
        return self.parsed


def parse_pasted(text: str, names: dict[str, str] | None = None) -> Parsed:
    """User ids (or members' names) one a line, or separated by commas or |; the good ones are
    kept, the others listed by line."""
    reader = _Reader(names)
    for number, line in enumerate((text or "").splitlines(), 1):
        for item in (s.strip() for s in SEPARATORS.split(line)):
            if item:
                reader.add(number, item)
    return reader.done()


def _csv_lines(text: str) -> list[tuple[int, str, list[str] | None]]:
    """(line number, line, cells) of each line that is not blank; cells None where the line
    cannot be read (an unclosed quote): read line by line, so one bad quote spoils its line only."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append((number, line, next(csv.reader([line], strict=True))))
            except csv.Error:
                rows.append((number, line, None))
    return rows


def parse_csv(data: bytes, names: dict[str, str] | None = None) -> Parsed:
    """A CSV of user ids (or names): a column named userid (or the first column); the good rows
    are kept, the others listed by line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed(errors=[_("The file is not UTF-8 text. Save it as CSV UTF-8 and try again.")])
    rows = _csv_lines(text)
    if len(rows) > MAX_ROWS:
        return Parsed(errors=[_("The file has %(count)s rows; at most %(max)s are read.",
                                count=f"{len(rows):,}", max=f"{MAX_ROWS:,}")])
    header = [c.strip().lower() for c in rows[0][2] or []] if rows else []
    column = next((header.index(c) for c in CSV_COLUMNS if c in header), None)
    reader = _Reader(names)
    for number, line, cells in rows[1:] if column is not None else rows:
        if cells is None:
            reader.flag(number, line, _("opens a quote that is not closed"))
        elif value := (cells[column or 0] if len(cells) > (column or 0) else "").strip():
            reader.add(number, value)
    parsed = reader.done()
    if not (parsed.userids or parsed.errors or parsed.ambiguous):
        parsed.errors.append(_("The file holds no user ids."))
    return parsed


def from_values(values) -> dict:
    """The picker's values ("user:lisi", "department:2", "tag:1") as a part of a selection;
    ValueError for anything else."""
    part: dict[str, list] = {"users": [], "departments": [], "tags": []}
    for value in values:
        kind, _sep, key = str(value).partition(":")
        if kind == "user" and check_userid(key) is None:
            part["users"].append(key)
        elif kind in ("department", "tag") and key.isdigit():
            part[f"{kind}s"].append(int(key))
        else:
            raise ValueError(f"not a recipient: {value!r}")
    return part


def to_values(part: dict) -> list[str]:
    """A part of a selection as the picker's values: departments, tags, then people."""
    return ([f"department:{d}" for d in part.get("departments", [])]
            + [f"tag:{t}" for t in part.get("tags", [])]
            + [f"user:{u}" for u in part.get("users", [])])


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
