"""The WeCom server API, one module per chapter of WeCom's docs, each a mixin of ``WeComClient``.

- :mod:`.messages`: 消息推送, send, update and recall template cards.
- :mod:`.directory`: 通讯录管理, departments, members and tags.
- :mod:`.network`: WeCom's own servers (``getcallbackip``).

A new chapter gets a module and a mixin here, listed in ``WeComClient``'s bases: media
(``media/uploadimg``) in ``media.py``, identity (OAuth ``auth/getuserinfo``) in ``identity.py``,
menus (``menu/create``) in ``menus.py``.
"""

from .directory import DirectoryAPI
from .messages import MessagesAPI
from .network import NetworkAPI

__all__ = ["DirectoryAPI", "MessagesAPI", "NetworkAPI"]
