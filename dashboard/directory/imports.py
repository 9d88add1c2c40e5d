"""Names from the admin console's member export (通讯录 → 导出成员), for a directory that lacks them.

WeCom gives apps created after mid-2022 userids and department ids but no names unless the admin
grants the contacts permission. The admin can always export the members instead: an XLSX (or the
CSV Excel saves from it) with 姓名, 账号 and 部门 columns, perhaps below a title row; 部门 holds
one or more paths such as "Company/R&D/Backend", root first, separated by ";". This module reads
that file and matches it to the directory as the API returned it. Pure: no database, no request.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from flask_babel import gettext as _
from flask_babel import ngettext

MAX_ROWS = 200_000
#: A zip bomb is refused before openpyxl unpacks it; 200,000 real members take far less.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_PROBLEMS = 20
#: Title and notice rows above the header: the header must appear within this many rows.
HEADER_SEARCH_ROWS = 50

#: Header spellings, compared after _key(): the Chinese console (older files: 帐号, or 英文ID in
#: the 2016 template), the English console.
NAME_COLUMNS = {"姓名", "name"}
ACCOUNT_COLUMNS = {"账号", "帐号", "英文id", "userid", "account"}
DEPARTMENT_COLUMNS = {"部门", "所在部门", "department", "departments"}
#: Between paths: ";" as WeCom writes it; "；" and "," as people retype it (WeCom forbids "," in
#: a field's value, so it cannot be part of a department's name).
PATH_SEPARATORS = re.compile(r"[;；,]")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


class ImportProblem(ValueError):
    """The file cannot be used at all; the message (translated) says what to do instead."""


@dataclass
class ExportMember:
    userid: str
    name: str
    paths: list[list[str]]  # each path root first: ["腾讯科技", "研发部", "后台组"]


@dataclass
class Export:
    members: list[ExportMember] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # row-level, at most MAX_PROBLEMS + 1


@dataclass
class Matched:
    user_names: dict[str, str]  # the directory's spelling of the userid -> name
    department_names: dict[int, str]
    unknown_userids: list[str]  # in the export, not in the directory
    matched: int  # export members found in the directory
    contested: list[int]  # departments whose members' paths disagreed (the majority won)


# --- reading ---------------------------------------------------------------------------------


def read_export(filename: str, data: bytes) -> Export:
    """The members of an exported CSV or XLSX; ImportProblem when it is no member export."""
    with closing(_sheets(filename, data)) as sheets:
        for rows in sheets:
            numbered = enumerate(rows, 1)
            columns = _header(numbered)
            if columns is not None:
                return _members(numbered, columns)
    raise ImportProblem(_("No header row with a Name and an Account column was found. %(how)s",
                          how=_how()))


def _how() -> str:
    return _("Export the members in the WeCom admin console (Contacts → Export members) and "
             "upload that file.")


def _sheets(filename: str, data: bytes) -> Iterator[Iterable[tuple]]:
    """The file's tables, rows of cell values: one for a CSV, one per sheet of an XLSX."""
    if data.startswith(ZIP_MAGIC):
        yield from _xlsx_sheets(filename, data)
    elif data.startswith(OLE_MAGIC):
        raise ImportProblem(_("“%(file)s” is an old Excel (.xls) file. Open it in Excel, save it "
                              "as .xlsx or CSV and upload that.", file=filename))
    elif not data.strip() or b"\x00" in data[:4096]:
        raise ImportProblem(_("“%(file)s” is neither a CSV nor an XLSX file. %(how)s",
                              file=filename, how=_how()))
    else:
        yield _guarded(csv.reader(io.StringIO(_decode(filename, data), newline="")),
                       _("“%(file)s” is not a well-formed CSV file. %(how)s", file=filename,
                         how=_how()))


def _decode(filename: str, data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030, which Excel in China writes."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportProblem(_("“%(file)s” is neither UTF-8 nor GB18030 text. Save it as CSV UTF-8 "
                          "and upload it again.", file=filename))


def _xlsx_sheets(filename: str, data: bytes) -> Iterator[Iterable[tuple]]:
    import openpyxl  # here, not at the top: it costs every process 0.2 s of CPU to start
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = _("“%(file)s” could not be read as a spreadsheet. %(how)s", file=filename,
                   how=_how())
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
        if "[Content_Types].xml" not in {entry.filename for entry in entries}:
            raise ImportProblem(unreadable)
        if sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
            raise ImportProblem(_too_big())
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ParseError,
            DefusedXmlException) as error:
        raise ImportProblem(unreadable) from error
    try:
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # some writers record a wrong used range; read every row
            yield _guarded(sheet.iter_rows(values_only=True), unreadable)
    finally:
        book.close()


def _guarded(rows: Iterable, message: str) -> Iterator[tuple]:
    """Rows of a table; a broken file found midway is an ImportProblem, not a server error."""
    try:
        yield from rows
    except (ParseError, DefusedXmlException, csv.Error) as error:
        raise ImportProblem(message) from error


def _too_big() -> str:
    return _("The file is too large: at most %(max)s rows are read. Export one department at a "
             "time and upload each file.", max=f"{MAX_ROWS:,}")


def _key(value: object) -> str:
    """A header cell compared loosely: case, spaces and a required-field star ignored."""
    return re.sub(r"[\s*]", "", _text(value)).lower()


def _text(value: object) -> str:
    """A cell as text; Excel stores an all-digit account as a number (10086.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(numbered: Iterator[tuple[int, tuple]]) -> dict[str, int] | None:
    """Column positions from the first row naming both a name and an account column."""
    for number, row in numbered:
        keys = [_key(cell) for cell in row]
        columns = {role: next((i for i, k in enumerate(keys) if k in names), None)
                   for role, names in (("name", NAME_COLUMNS), ("userid", ACCOUNT_COLUMNS),
                                       ("paths", DEPARTMENT_COLUMNS))}
        if columns["name"] is not None and columns["userid"] is not None:
            return {role: i for role, i in columns.items() if i is not None}
        if number >= HEADER_SEARCH_ROWS:
            return None
    return None


def _members(numbered: Iterator[tuple[int, tuple]], columns: dict[str, int]) -> Export:
    export, first_row, rows_seen = Export(), {}, 0
    for number, row in numbered:
        if number > MAX_ROWS:
            raise ImportProblem(_too_big())
        if not any(_text(cell) for cell in row):
            continue
        cells = {role: _text(row[i]) if i < len(row) else "" for role, i in columns.items()}
        rows_seen += 1
        userid = cells["userid"]
        if not userid:
            export.problems.append(_("Row %(number)s: no account; the row is skipped.",
                                     number=number))
        elif userid.lower() in first_row:
            export.problems.append(_("Row %(number)s: %(userid)s already appears in row "
                                     "%(first)s; this row is skipped.", number=number,
                                     userid=userid, first=first_row[userid.lower()]))
        else:
            first_row[userid.lower()] = number
            if not cells["name"]:
                export.problems.append(_("Row %(number)s: %(userid)s has no name.",
                                         number=number, userid=userid))
            export.members.append(ExportMember(userid, cells["name"],
                                               _paths(cells.get("paths", ""))))
    if not rows_seen:
        raise ImportProblem(_("The file has a header row but no members below it. %(how)s",
                              how=_how()))
    export.problems = _capped(export.problems)
    return export


def _paths(cell: str) -> list[list[str]]:
    """ "Co/R&D/Backend;Co/Sales" -> [["Co", "R&D", "Backend"], ["Co", "Sales"]]."""
    paths = ([s.strip() for s in part.split("/") if s.strip()]
             for part in PATH_SEPARATORS.split(cell))
    return [path for path in paths if path]


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    return problems[:MAX_PROBLEMS] + [ngettext("…and %(num)s more problem.",
                                               "…and %(num)s more problems.", more)]


# --- matching --------------------------------------------------------------------------------


def match(export: Export, users: dict[str, list[int]], parents: dict[int, int]) -> Matched:
    """Names for the directory's users and departments, as far as the export can tell them.

    users: userid -> department ids; parents: department id -> parent id (0 or absent: a root).
    A member in exactly one department with exactly one path names that department after the
    path's last segment, its parent after the one before, and so on up while both last. Where
    members disagree the name most of them give wins (a tie: the one met first in the file).
    """
    canonical = {userid.lower(): userid for userid in users}
    user_names: dict[str, str] = {}
    votes: dict[int, Counter[str]] = defaultdict(Counter)
    unknown: list[str] = []
    for member in export.members:
        userid = canonical.get(member.userid.lower())
        if userid is None:
            unknown.append(member.userid)
            continue
        if member.name:
            user_names[userid] = member.name
        if len(users[userid]) == 1 and len(member.paths) == 1:
            _vote(votes, users[userid][0], member.paths[0], parents)
    return Matched(
        user_names=user_names,
        department_names={dept: names.most_common(1)[0][0] for dept, names in votes.items()},
        unknown_userids=unknown,
        matched=len(export.members) - len(unknown),
        contested=sorted(dept for dept, names in votes.items() if len(names) > 1),
    )


def _vote(votes: dict[int, Counter[str]], dept: int, path: list[str],
          parents: dict[int, int]) -> None:
    """One member's path, read from its end, names its department and those above it."""
    for segment in reversed(path):
        votes[dept][segment] += 1
        dept = parents.get(dept, 0)
        if not dept:
            return
