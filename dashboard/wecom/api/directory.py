"""通讯录管理 (contacts): the departments, members and tags the app may see."""

from __future__ import annotations

from typing import Callable


class DirectoryAPI:
    """The read-only directory calls; mixed into ``WeComClient``, which provides ``_call``."""

    _call: Callable[..., dict]

    def list_departments(self, id: int | None = None) -> list[dict]:
        """Departments visible to the app: all, or department ``id`` and those below it."""
        return self._call("GET", "department/list", {} if id is None else {"id": id})["department"]

    def list_department_users(self, department_id: int, fetch_child: bool = False) -> list[dict]:
        """Members of a department (userid, name, department), and of those below it if asked."""
        params = {"department_id": department_id, "fetch_child": int(fetch_child)}
        return self._call("GET", "user/simplelist", params)["userlist"]

    def list_tags(self) -> list[dict]:
        """Tags visible to the app (tagid, tagname)."""
        return self._call("GET", "tag/list")["taglist"]

    def tag_members(self, tagid: int) -> dict:
        """Members of a tag: ``{"userlist": [{"userid", "name"}, ...], "partylist": [ids]}``."""
        data = self._call("GET", "tag/get", {"tagid": tagid})
        return {"userlist": data.get("userlist", []), "partylist": data.get("partylist", [])}
