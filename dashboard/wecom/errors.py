"""Exceptions raised by the WeCom protocol package; each carries WeCom's errcode and errmsg.

Callback crypto failures are :class:`CryptoError` subclasses carrying the official
WXBizMsgCrypt codes (-40001 .. -40011, PROTOCOL §4.5); API failures are below the marker.
"""

from __future__ import annotations

from typing import ClassVar


class WeComError(Exception):
    """Base class for every WeCom protocol error."""

    errcode: int
    errmsg: str

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg

    def __str__(self) -> str:
        return f"{self.errcode}: {self.errmsg}"


# --- Callback crypto errors (crypto.py, xmlsafe.py, events.py, replies.py) ---


class CryptoError(WeComError):
    """A callback could not be verified, decrypted, parsed or answered.

    Subclasses fix ``code`` (the official errcode) and ``name`` (the official error name);
    ``errmsg`` is the detail given when raised, or ``name`` when none was.
    """

    code: ClassVar[int] = -40000  # not an official code: only the subclasses are raised
    name: ClassVar[str] = "Crypto_Error"

    def __init__(self, errmsg: str | None = None) -> None:
        super().__init__(self.code, errmsg or self.name)

    def __reduce__(self):  # args hold (errcode, errmsg); rebuild from the message alone
        return type(self), (self.errmsg,)

    def __str__(self) -> str:
        """Code and name as Tencent's docs and samples print them, then the detail:
        ``-40001 ValidateSignature_Error: msg_signature does not match``."""
        named = f"{self.code} {self.name}"
        return named if self.errmsg == self.name else f"{named}: {self.errmsg}"


class SignatureError(CryptoError):
    """msg_signature does not match the signed values (or is missing)."""

    code, name = -40001, "ValidateSignature_Error"


class XmlParseError(CryptoError):
    """An XML body is malformed, too large, holds a DTD, or lacks a required element."""

    code, name = -40002, "ParseXml_Error"


class ComputeSignatureError(CryptoError):
    """The signature could not be computed (a signed value is missing or not text)."""

    code, name = -40003, "ComputeSignature_Error"


class IllegalAesKeyError(CryptoError, ValueError):
    """The EncodingAESKey is not 43 base64 characters encoding 32 bytes."""

    code, name = -40004, "IllegalAesKey"


class ReceiveIdError(CryptoError):
    """The decrypted message was meant for another receive id (CorpID / suite id)."""

    code, name = -40005, "ValidateCorpid_Error"


class EncryptError(CryptoError):
    """AES encryption of a reply failed."""

    code, name = -40006, "EncryptAES_Error"


class DecryptError(CryptoError):
    """AES decryption failed: the ciphertext is empty or not whole AES blocks."""

    code, name = -40007, "DecryptAES_Error"


class IllegalBufferError(CryptoError):
    """The decrypted buffer is malformed: bad padding, length field or UTF-8."""

    code, name = -40008, "IllegalBuffer"


class EncodeBase64Error(CryptoError):
    """Base64 encoding of the ciphertext failed."""

    code, name = -40009, "EncodeBase64_Error"


class DecodeBase64Error(CryptoError):
    """The Encrypt / echostr value is not valid base64."""

    code, name = -40010, "DecodeBase64_Error"


class GenReturnXmlError(CryptoError):
    """A reply XML could not be built (text that XML cannot carry, a bad element name)."""

    code, name = -40011, "GenReturnXml_Error"


# --- API errors (client.py) ---

#: Plain-English explanations of the errcodes a campaign dashboard meets (PROTOCOL §1.3, §2, §6).
API_EXPLANATIONS: dict[int, str] = {
    -1: "WeCom is busy; try again shortly (at most 3 times).",
    40001: "The app secret is wrong or was reset, or the app is disabled; check the secret.",
    40003: "A userid is invalid: 1-64 letters, digits, '-', '_' or '.', and it must be in the directory.",
    40008: "The msgtype is not valid for this call.",
    40005: "WeCom refused the file's type: upload a JPG or PNG picture.",
    40006: "WeCom refused the file's size: upload a picture of at most 2 MB (and not empty).",
    40009: "WeCom refused the picture's size: upload a JPG or PNG of at most 2 MB.",
    40013: "The corp id is wrong; check it under Admin > My company.",
    40014: "The access token is invalid or expired.",
    40032: "Too many users in one call: at most 1000 userids per message.",
    40056: "The agent id is not an app of this corp; check the agent id.",
    40058: "A parameter is invalid: bad JSON, a value too long, too many list items, "
    "or a recall from another app than the sender.",
    40063: "A required parameter is empty.",
    40091: "The secret is not valid for this corp (perhaps another corp's secret).",
    41001: "The access token is missing from the URL query.",
    41011: "The agentid is missing.",
    42001: "The access token has expired.",
    42022: "This response_code was already used; each code allows one card update.",
    42052: "The message is older than 24 hours and can no longer be recalled.",
    43012: "Interactive cards need the app to have a callback URL configured.",
    45002: "The message is too large.",
    45009: "A WeCom rate limit was hit; wait for the limit's window (usually a minute).",
    45033: "Too many concurrent calls to this API; lower the concurrency.",
    48002: "The app has no permission to call this API.",
    60020: "This server's IP is not in the app's trusted IP list (it takes a minute to apply).",
    60140: "The response_code is invalid or has expired (treat codes as valid for 24 hours).",
    81013: "Every userid, department and tag was invalid or outside the app's visible range; "
    "nobody received the message.",
    82001: "No recipients: touser, toparty and totag are all empty.",
    301002: "The access token belongs to another app than the agentid; use this app's own secret.",
}

_OPTIONS = ("button_selection.option_list", "checkbox.option_list", "select_list[].option_list")

#: Template-card errcodes (PROTOCOL §3.6): the card field paths concerned, and what is wrong.
CARD_ERRORS: dict[int, tuple[tuple[str, ...], str]] = {
    42014: (("task_id",), "task_id is invalid: [0-9A-Za-z_-@] only, at most 128 bytes, unique in the app."),
    42027: (("horizontal_content_list[].keyname",), "A horizontal_content_list item has no keyname."),
    42028: (
        ("card_action.url", "horizontal_content_list[].url", "jump_list[].url"),
        "A url is missing (in card_action, horizontal_content_list or jump_list).",
    ),
    42029: (("horizontal_content_list[].media_id",), "An attachment item (type 2) has no media_id."),
    42030: (("card_action.appid", "jump_list[].appid"), "A mini-program link has no appid."),
    42031: (("card_type",), "card_type is not one of the five template card types."),
    42033: (
        ("vertical_content_list[].title", "jump_list[].title"),
        "A vertical_content_list or jump_list item has no title.",
    ),
    42035: (("horizontal_content_list",), "horizontal_content_list has too many items (at most 6)."),
    42036: (("vertical_content_list",), "vertical_content_list has too many items (at most 4)."),
    42037: (_OPTIONS, "An option_list has too few or too many options (1-10; 1-20 for a vote)."),
    42038: (("button_list[].text",), "A button's text is missing or too long (at most 10 characters)."),
    42039: (("button_list[].key",), "A button's key is missing or invalid (unique, at most 1024 bytes)."),
    42040: (tuple(f"{p}[].id" for p in _OPTIONS), "An option id is missing, repeated or too long."),
    42041: (tuple(f"{p}[].text" for p in _OPTIONS), "An option text is missing or too long."),
    42042: (("jump_list",), "jump_list has too many items (at most 3)."),
    42043: (
        ("button_selection.question_key", "checkbox.question_key", "select_list[].question_key"),
        "A question_key is missing or invalid (at most 1024 bytes).",
    ),
    42044: (("card_image.url",), "card_image.url is missing or invalid."),
    42045: (
        ("card_action",),
        "card_action is missing or invalid: notice cards need type 1 with a url or type 2 with an appid.",
    ),
    42046: (("submit_button.key",), "submit_button.key is missing or invalid."),
    42047: (("select_list",), "select_list must hold 1 to 3 selectors."),
    42049: (("submit_button.text",), "submit_button.text is missing or too long (at most 10 characters)."),
    42050: (("horizontal_content_list[].userid",), "A member item (type 3) has no valid userid."),
    42051: (("action_menu.action_list[].key",), "Two action_menu items share the same key."),
}


def _explain(errcode: int) -> str:
    if errcode in CARD_ERRORS:
        return CARD_ERRORS[errcode][1]
    return API_EXPLANATIONS.get(errcode, f"WeCom answered errcode {errcode}; see errmsg.")


class ApiError(WeComError):
    """WeCom rejected a call with an errcode that retrying the same call will not fix.

    ``explanation`` says in plain words what went wrong. For template-card errcodes
    ``fields`` names the card field paths concerned (several when WeCom's code is shared)
    and ``field`` the first of them. ``response`` is WeCom's whole answer: an 81013 still
    carries the invalid recipient lists.
    """

    def __init__(
        self,
        errcode: int,
        errmsg: str,
        *,
        explanation: str | None = None,
        response: dict | None = None,
    ) -> None:
        super().__init__(errcode, errmsg)
        self.explanation = explanation or _explain(errcode)
        self.fields: tuple[str, ...] = CARD_ERRORS.get(errcode, ((), ""))[0]
        self.response = response or {}

    @property
    def field(self) -> str | None:
        return self.fields[0] if self.fields else None

    def __str__(self) -> str:
        return f"{self.errcode}: {self.explanation} (WeCom said: {self.errmsg})"


class RetryableError(WeComError):
    """The call failed in a way that may pass later: WeCom busy (-1), a rate limit
    (45009, 45033), a timeout, a lost connection or an HTTP 5xx.

    ``retry_after`` is the suggested delay in seconds. ``request_sent`` is True when the
    request may have reached WeCom and been acted on although no answer came (read
    timeout, dropped connection, 5xx): a send may have been delivered, so repeat it only
    with the identical body and ``enable_duplicate_check``. It is False when WeCom surely
    did not act on it (connection refused, connect timeout, an errcode answer).
    """

    def __init__(
        self,
        errcode: int,
        errmsg: str,
        *,
        retry_after: float = 1.0,
        request_sent: bool = False,
        explanation: str | None = None,
    ) -> None:
        super().__init__(errcode, errmsg)
        self.retry_after = retry_after
        self.request_sent = request_sent
        self.explanation = explanation or _explain(errcode)

    def __str__(self) -> str:
        return f"{self.errcode}: {self.explanation} ({self.errmsg}; retry in {self.retry_after:g} s)"
