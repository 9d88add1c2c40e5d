"""One search over the cached directory's people, departments and tags, for the people picker.

Like WeCom's own picker: a member is found by name, userid, department name, and by the pinyin
of the name (``zw`` and ``zhangwei`` find 张伟). The index (pinyin included) is built once per
change of the cached copy (:func:`.snapshot.version`) and kept per app, so a big directory is not
converted again on every keystroke.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from . import snapshot

LIMIT = 50
KINDS = ("department", "tag", "user")  # the order of equally good matches
EXTENSION = "directory_search"


@dataclass(frozen=True)
class Entry:
    """One thing to pick: ``own`` are its own words (name, userid, pinyin), ``context`` the names
    of the departments a member is in (a match there ranks after a match of the name)."""

    value: str
    kind: str
    label: str
    detail: str
    own: str
    context: str = ""

    def item(self) -> dict:
        return {"value": self.value, "kind": self.kind, "label": self.label, "detail": self.detail,
                "keys": f"{self.own} {self.context}".strip()}


@dataclass(frozen=True)
class Index:
    version: int
    entries: list[Entry]
    by_value: dict[str, Entry]


def pinyin_keys(text: str) -> str:
    """The full pinyin and the initials of text, lower-cased ("zhangwei zw" for 张伟)."""
    from pypinyin import Style, lazy_pinyin  # here: its dictionaries cost every process 0.35 s to load
    full = "".join(lazy_pinyin(text)).replace(" ", "").lower()
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).replace(" ", "").lower()
    return f"{full} {initials}"


def _words(*parts: str) -> str:
    return " ".join(p.lower() for p in parts if p)


def _department_paths() -> dict[int, str]:
    """Each department's path from the top ("示例科技 / 研发部"): parents come first in tree order."""
    paths: dict[int, str] = {}
    for row, _depth in snapshot.department_tree():
        parent = paths.get(row.parent_id)
        paths[row.id] = f"{parent} / {row.name}" if parent else row.name
    return paths


def _build(version: int) -> Index:
    paths, names = _department_paths(), snapshot.department_names()
    entries = [Entry(f"department:{d}", "department", names[d], path if path != names[d] else "",
                     _words(names[d], pinyin_keys(names[d]), str(d))) for d, path in paths.items()]
    entries += [Entry(f"tag:{t.id}", "tag", t.name, "", _words(t.name, pinyin_keys(t.name)))
                for t in snapshot.tags()]
    for user in snapshot.users():
        place = paths.get(user.departments[0], "") if user.departments else ""
        entries.append(Entry(
            f"user:{user.userid}", "user", user.name or user.userid,
            " · ".join(p for p in (user.userid, place) if p),
            _words(user.name, user.userid, pinyin_keys(user.name)),
            _words(*(names.get(d, "") for d in user.departments))))
    return Index(version, entries, {e.value.lower(): e for e in entries})


def index() -> Index:
    """The index of the cached copy as it is now (built again only after a change)."""
    version = snapshot.version()
    cached = current_app.extensions.get(EXTENSION)
    if cached is None or cached.version != version:
        cached = current_app.extensions[EXTENSION] = _build(version)
    return cached


def _rank(entry: Entry, needle: str, tokens: list[str]) -> tuple | None:
    """None when entry does not match every word of the query; else its place in the list."""
    if not all(t in entry.own or t in entry.context for t in tokens):
        return None
    own = all(t in entry.own for t in tokens)
    starts = any(word.startswith(needle) for word in entry.own.split())
    return (not own, not starts, KINDS.index(entry.kind), entry.label)


def search(query: str, limit: int = LIMIT) -> list[dict]:
    """At most ``limit`` items matching every word of ``query``, best first; without a query,
    the departments (in tree order) and tags, to browse."""
    entries = index().entries
    needle = query.strip().lower()
    if not needle:
        return [e.item() for e in entries if e.kind != "user"][:limit]
    tokens = needle.split()
    ranked = [(rank, e) for e in entries if (rank := _rank(e, needle, tokens)) is not None]
    ranked.sort(key=lambda pair: pair[0])
    return [e.item() for _key, e in ranked[:limit]]


def items(values: list[str]) -> list[dict]:
    """The picker's items for chosen values (a saved selection shown as chips), in their order;
    a value the directory no longer knows keeps its id as label."""
    by_value, out = index().by_value, []
    for value in values:
        entry = by_value.get(value.lower())
        if entry is not None:
            out.append(entry.item())
        else:
            kind, _sep, key = value.partition(":")
            out.append({"value": value, "kind": kind, "label": key, "keys": key.lower(),
                        "detail": _("Not in the directory")})
    return out
