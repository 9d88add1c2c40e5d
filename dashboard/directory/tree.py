"""The directory as expansion needs it: who is in which department, the department tree, tags.

Pure: built from the cached tables by :func:`dashboard.directory.snapshot.load`, passed in to the
recipient rules (dashboard/campaigns/recipients.py), so they are testable without a database.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Directory:
    """The parts of the cached directory that expansion needs."""

    users: dict[str, list[int]]  # userid -> department ids
    children: dict[int, list[int]]  # department id -> child department ids
    tags: dict[int, tuple[list[str], list[int]]]  # tagid -> (userids, department ids)

    def subtree(self, roots) -> set[int]:
        found, todo = set(), list(roots)
        while todo:
            dept = todo.pop()
            if dept not in found:
                found.add(dept)
                todo.extend(self.children.get(dept, []))
        return found

    def members(self, departments) -> list[str]:
        depts = self.subtree(departments)
        return [u for u, member_of in self.users.items() if depts.intersection(member_of)]
