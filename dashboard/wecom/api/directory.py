"""通讯录管理 (contacts): the departments, members and tags the app may see.

Apps created after mid-2022 get no names unless the admin grants the contacts permission: a
department's ``name`` and a member's ``name`` may then be absent or empty, the ids never are.
"""

from __future__ import annotations

from typing import Callable

MAX_LIST_ID_LIMIT = 10000  # user/list_id: rows per page, 1 to this


class DirectoryAPI:
    """The read-only directory calls; mixed into ``WeComClient``, which provides ``_call``."""

    _call: Callable[..., dict]

    def list_departments(self, id: int | None = None) -> list[dict]:
        """Departments visible to the app: all, or department ``id`` and those below it."""
        return self._call("GET", "department/list", {} if id is None else {"id": id})["department"]

    def list_department_ids(self, id: int | None = None) -> list[dict]:
        """The department tree without names: ``[{"id", "parentid", "order"}, ...]``.

        :param id: only this department and those below it (all visible ones when None).
        :raises ApiError: errcode 60123 for an unknown department.
        """
        params = {} if id is None else {"id": id}
        return self._call("GET", "department/simplelist", params)["department_id"]

    def get_department(self, id: int) -> dict:
        """One department: ``{"id", "name", "name_en", "department_leader", "parentid", "order"}``.

        :raises ApiError: errcode 60123 for an unknown department.
        """
        return self._call("GET", "department/get", {"id": id})["department"]

    def list_department_users(self, department_id: int, fetch_child: bool = False) -> list[dict]:
        """Members of a department (userid, name, department), and of those below it if asked.

        ``fetch_child`` is sent only when True: WeCom's current documentation no longer lists it.
        """
        params = {"department_id": department_id, **({"fetch_child": 1} if fetch_child else {})}
        return self._call("GET", "user/simplelist", params)["userlist"]

    def list_user_ids(
        self, cursor: str | None = None, limit: int = MAX_LIST_ID_LIMIT
    ) -> tuple[list[dict], str | None]:
        """One page of every member's departments: ``([{"userid", "department"}, ...], next)``.

        A member in several departments has a row for each. ``next`` is the cursor of the next
        page, None after the last one.

        :param cursor: the previous page's ``next``; None for the first page.
        :param limit: rows wanted, 1 to 10,000.
        :raises ValueError: ``limit`` out of range.
        :raises ApiError: errcode 48002 when the secret may not use this call (WeCom allows it
            only with the contacts-sync secret).
        """
        if not 1 <= limit <= MAX_LIST_ID_LIMIT:
            raise ValueError(f"limit must be 1 to {MAX_LIST_ID_LIMIT}, not {limit}")
        body = {"limit": limit} if cursor is None else {"cursor": cursor, "limit": limit}
        data = self._call("POST", "user/list_id", body=body)
        return data.get("dept_user", []), data.get("next_cursor") or None

    def get_user(self, userid: str) -> dict:
        """One member as WeCom gives it (userid, name, department, main_department, ...).

        :raises ApiError: errcode 60111 for an unknown userid.
        """
        data = self._call("GET", "user/get", {"userid": userid})
        return {k: v for k, v in data.items() if k not in ("errcode", "errmsg")}

    def list_tags(self) -> list[dict]:
        """Tags visible to the app (tagid, tagname)."""
        return self._call("GET", "tag/list")["taglist"]

    def tag_members(self, tagid: int) -> dict:
        """Members of a tag: ``{"userlist": [{"userid", "name"}, ...], "partylist": [ids]}``."""
        data = self._call("GET", "tag/get", {"tagid": tagid})
        return {"userlist": data.get("userlist", []), "partylist": data.get("partylist", [])}
