"""The WeCom server API, one module per chapter of WeCom's docs, each a mixin of ``WeComClient``.

- :mod:`.messages`: 消息推送, send, update and recall template cards.
- :mod:`.directory`: 通讯录管理, departments, members and tags.
- :mod:`.network`: WeCom's own servers (``getcallbackip``).
- :mod:`.menus`: 自定义菜单, the app's custom menu (create, get, delete).

A new chapter gets a module and a mixin here, listed in ``WeComClient``'s bases: media
(``media/uploadimg``) in ``media.py``, identity (OAuth ``auth/getuserinfo``) in ``identity.py``.
"""

from .directory import DirectoryAPI
from .menus import MenusAPI
from .messages import MessagesAPI
from .network import NetworkAPI

__all__ = ["DirectoryAPI", "MenusAPI", "MessagesAPI", "NetworkAPI"]
