"""应用管理 › 自定义菜单 (the app's custom menu, docs 90231-90233): publish, read back, remove.

Each call names the app with ``agentid`` in the query. There is no update call: menu/create
replaces the whole menu.
"""

from __future__ import annotations

from typing import Callable

from ..errors import ApiError
from ..menus import menu_body

MENU_NOT_SET = 46003  # menu/get of an app without a menu ("menu no exist"; 90313: 菜单未设置)


class MenusAPI:
    """The app's own menu; mixed into ``WeComClient``, which provides ``_call`` and ``agent_id``."""

    _call: Callable[..., dict]
    agent_id: int

    def create_menu(self, menu: dict) -> None:
        """Publish ``menu`` (``{"button": [...]}``) as the app's menu, replacing the one before.

        The body posted is ``menu_body(menu)``, the JSON the preview shows. Check the menu with
        ``menu_problems`` first: WeCom refuses one over its limits.

        :raises ApiError: 40016-40027, 40054 or 40055 for a menu WeCom refuses (count, type,
            name, key or url of a button or sub-button); 40056 for an agent id not of this corp.
        """
        self._call("POST", "menu/create", {"agentid": self.agent_id}, menu_body(menu))

    def get_menu(self) -> dict:
        """The app's menu as WeCom keeps it, ``{"button": [...]}``; no buttons when none is set."""
        try:
            data = self._call("GET", "menu/get", {"agentid": self.agent_id})
        except ApiError as exc:
            if exc.errcode != MENU_NOT_SET:
                raise
            return {"button": []}
        return {"button": data.get("button", [])}

    def delete_menu(self) -> None:
        """Remove the app's menu; members see none once their client refreshes it."""
        self._call("GET", "menu/delete", {"agentid": self.agent_id})
