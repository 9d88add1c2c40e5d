"""身份验证 (identity): who signed in through WeCom's OAuth page (inside the WeCom client) or its
QR-code login (in a browser). Both hand the app a one-time ``code``; ``auth/getuserinfo`` turns
it into the member's userid.
"""

from __future__ import annotations

from typing import Callable

from ..errors import ApiError

#: WeCom's errcode for a code that is unknown, expired (after 5 minutes) or already used.
INVALID_CODE = 40029


class NotAMemberError(ApiError):
    """The code is good but belongs to someone outside the corp: WeCom answered an ``openid``
    (a WeChat user, or a member of another corp) and no userid, so there is nobody to sign in.

    ``errcode`` is 0, as WeCom's answer was; ``response`` keeps the answer (openid and all).
    """

    def __init__(self, response: dict) -> None:
        super().__init__(
            0,
            str(response.get("errmsg", "ok")),
            explanation="The person who signed in is not a member of this corp (WeCom gave an "
            "openid, no userid).",
            response=response,
        )


class IdentityAPI:
    """The OAuth calls; mixed into ``WeComClient``, which provides ``_call``."""

    _call: Callable[..., dict]

    def get_user_info(self, code: str) -> str:
        """The userid of the member a login ``code`` was issued for (``auth/getuserinfo``).

        WeCom answers the userid in ``userid``; older answers (and some SDK fixtures) spell it
        ``UserId``, which is taken too. A code works once and for 5 minutes.

        :raises ApiError: errcode 40029 for a code that is unknown, expired or used before.
        :raises NotAMemberError: the code belongs to someone outside the corp (an ``openid``
            and no userid); an :class:`ApiError` with errcode 0.
        """
        data = self._call("GET", "auth/getuserinfo", {"code": code})
        userid = data.get("userid") or data.get("UserId")
        if not userid:
            raise NotAMemberError(data)
        return str(userid)
