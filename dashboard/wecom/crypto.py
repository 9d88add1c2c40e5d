"""WeCom callback crypto (WXBizMsgCrypt): signatures, AES-256-CBC envelopes, passive replies.

PROTOCOL §4. Typical use in the callback route::

    crypto = CallbackCrypto(token, encoding_aes_key, corp_id)
    echo = crypto.verify_url(msg_signature, timestamp, nonce, echostr)        # GET
    inner_xml = crypto.decrypt(msg_signature, timestamp, nonce, request_body)  # POST
    body = crypto.encrypt_reply(reply_xml, nonce, timestamp)                   # HTTP 200 body

Every failure is a :class:`~dashboard.wecom.errors.CryptoError` carrying the official
errcode. Timestamp freshness (replay windows) is the caller's business, as in the official
library; :func:`parse_envelope` lets a caller look at the outer envelope first.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

# bandit B413 mistakes these for the abandoned PyCrypto: `Crypto` is pycryptodome here
from Crypto.Cipher import AES  # nosec B413
from Crypto.Util.Padding import pad  # nosec B413
from Crypto.Util.strxor import strxor  # nosec B413

from .errors import (
    ComputeSignatureError,
    DecodeBase64Error,
    DecryptError,
    EncodeBase64Error,
    EncryptError,
    GenReturnXmlError,
    IllegalAesKeyError,
    IllegalBufferError,
    ReceiveIdError,
    SignatureError,
    XmlParseError,
)
from .xmlsafe import cdata, parse_xml

__all__ = ["BLOCK_SIZE", "CallbackCrypto", "Envelope", "parse_envelope", "signature"]

#: WeCom pads with PKCS#7 to 32-byte blocks, not AES's 16 (PROTOCOL §4.4).
BLOCK_SIZE = 32

#: Size cap for a POST body: base64 of a 64 KiB inner message plus the envelope.
MAX_ENVELOPE_BYTES = 96 * 1024

_REPLY_TEMPLATE = (
    "<xml>\n"
    "<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
    "<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n"
    "<TimeStamp>{timestamp}</TimeStamp>\n"
    "<Nonce>{nonce}</Nonce>\n"
    "</xml>"
)


def signature(token: str, timestamp: str | int, nonce: str | int, encrypt: str) -> str:
    """Return the ``msg_signature``: SHA-1 hex of the four values sorted and concatenated.

    :raises ComputeSignatureError: a value is missing (None) or cannot be encoded.
    """
    if token is None or timestamp is None or nonce is None or encrypt is None:
        raise ComputeSignatureError("cannot sign: token, timestamp, nonce and encrypt are all required")
    try:
        joined = "".join(sorted((token, str(timestamp), str(nonce), encrypt)))
        # bandit B324: WeCom's protocol defines msg_signature as SHA-1; it is not ours to choose
        return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # nosec B324
    except (TypeError, UnicodeEncodeError) as exc:
        raise ComputeSignatureError(f"cannot sign: {exc}") from None


@dataclass(frozen=True, slots=True)
class Envelope:
    """The outer XML of a callback POST; only ``encrypt`` is authenticated (by the signature)."""

    encrypt: str
    to_user: str | None = None
    agent_id: str | None = None


# A genuine envelope is <xml> around three flat elements holding ids and base64. When the
# body is exactly that, with values of ASCII letters, digits and +/=_.@- only (so no markup,
# DTD or entity can hide in it), one regex pass reads it; any other body goes through the
# hardened XML parser, which gives the same answer more slowly.
_PLAIN_VALUE = rb"([A-Za-z0-9_+/=.@-]*)"
_PLAIN_ELEMENT = re.compile(
    rb"[ \t\r\n]*<(ToUserName|AgentID|Encrypt)>(?:<!\[CDATA\[" + _PLAIN_VALUE + rb"\]\]>|" + _PLAIN_VALUE
    + rb")</\1>[ \t\r\n]*"
)


def parse_envelope(body: bytes | str, *, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
    """Parse a callback POST body ``<xml><ToUserName/><AgentID/><Encrypt/></xml>``.

    The body is not authenticated yet: it is size-capped, and anything but the plain
    envelope shape goes through the hardened parser (no DTDs or entities).

    :raises XmlParseError: malformed, oversized, or no ``Encrypt`` text.
    """
    if isinstance(body, str):
        try:
            body = body.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise XmlParseError(f"callback body is not encodable as UTF-8: {exc}") from None
    if len(body) > max_bytes:
        raise XmlParseError(f"callback body of {len(body)} bytes exceeds the {max_bytes}-byte limit")
    fields = _plain_fields(body)
    return _envelope(_parse_xml_fields(body, max_bytes) if fields is None else fields)


def _plain_fields(body: bytes) -> dict[str, str | None] | None:
    """The fields of a plain envelope (see above), or None when the body is anything else."""
    body = body.strip(b" \t\r\n")
    if not (body.startswith(b"<xml>") and body.endswith(b"</xml>")):
        return None
    fields: dict[str, str | None] = {}
    pos, end = len(b"<xml>"), len(body) - len(b"</xml>")
    while pos < end:
        match = _PLAIN_ELEMENT.match(body, pos, end)
        if match is None or match[1].decode() in fields:  # a repeat goes to the parser, which refuses it
            return None
        value = match[2] if match[3] is None else match[3]
        fields[match[1].decode()] = value.decode() or None
        pos = match.end()
    return fields


def _parse_xml_fields(body: bytes, max_bytes: int) -> dict:
    root = parse_xml(body, max_bytes=max_bytes)
    fields = next(iter(root.values()))
    if not isinstance(fields, dict):
        raise XmlParseError("callback envelope has no child elements")
    return fields


def _envelope(fields: dict) -> Envelope:
    encrypt = fields.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise XmlParseError("callback envelope is missing the Encrypt element")
    to_user, agent_id = fields.get("ToUserName"), fields.get("AgentID")
    return Envelope(
        encrypt=encrypt,
        to_user=to_user if isinstance(to_user, str) and to_user else None,  # empty: absent, as
        agent_id=agent_id if isinstance(agent_id, str) and agent_id else None,  # the plain reader has it
    )


class CallbackCrypto:
    """Sign, verify, encrypt and decrypt WeCom callback messages for one app.

    :param token: the callback Token configured in the admin console.
    :param encoding_aes_key: the 43-character EncodingAESKey.
    :param receive_id: the CorpID (suite id for third-party suites, "" for personal apps);
        decrypted messages must end with it.
    :param random_bytes: ``n -> n random bytes``; inject a fixed one for byte-exact tests.
    :param clock: ``() -> seconds``; supplies default timestamps.
    :raises IllegalAesKeyError: (a ``ValueError``) the key is not 43 chars of base64 for 32 bytes.
    """

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        receive_id: str,
        *,
        random_bytes: Callable[[int], bytes] = os.urandom,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = token
        self.receive_id = receive_id
        self._receive_id = receive_id.encode("utf-8")
        self._key = _decode_key(encoding_aes_key)
        self._iv = self._key[:16]
        # CBC decryption is ECB decryption XORed with the previous ciphertext block, so one ECB
        # cipher (its key schedule built once; decrypting changes no state) serves every message.
        self._ecb = AES.new(self._key, AES.MODE_ECB)
        self._random_bytes = random_bytes
        self._clock = clock

    def __repr__(self) -> str:  # never show the token or key
        return f"{type(self).__name__}(receive_id={self.receive_id!r})"

    # -- signatures ------------------------------------------------------------------------

    def sign(self, timestamp: str | int, nonce: str | int, encrypt: str) -> str:
        """Return the ``msg_signature`` of ``encrypt`` with this app's token."""
        return signature(self._token, timestamp, nonce, encrypt)

    def check_signature(
        self, msg_signature: str, timestamp: str | int, nonce: str | int, encrypt: str
    ) -> None:
        """Raise :class:`SignatureError` unless ``msg_signature`` signs ``encrypt`` (constant time)."""
        expected = self.sign(timestamp, nonce, encrypt)
        if not isinstance(msg_signature, str) or not msg_signature.isascii():
            raise SignatureError("msg_signature is missing or not ASCII")
        if not hmac.compare_digest(expected, msg_signature):
            raise SignatureError("msg_signature does not match")

    # -- receiving -------------------------------------------------------------------------

    def verify_url(self, msg_signature: str, timestamp: str | int, nonce: str | int, echostr: str) -> str:
        """Check a URL-verification GET and return the plaintext to answer with.

        A space in ``echostr`` is taken for a ``+`` lost to form decoding (base64 has no spaces).
        """
        if isinstance(echostr, str) and " " in echostr:
            echostr = echostr.replace(" ", "+")
        self.check_signature(msg_signature, timestamp, nonce, echostr)
        return self.decrypt_ciphertext(echostr)

    def decrypt(self, msg_signature: str, timestamp: str | int, nonce: str | int, body: bytes | str) -> str:
        """Verify and decrypt a callback POST body; return the inner XML."""
        return self.decrypt_envelope(msg_signature, timestamp, nonce, parse_envelope(body))

    def decrypt_envelope(
        self, msg_signature: str, timestamp: str | int, nonce: str | int, envelope: Envelope
    ) -> str:
        """Like :meth:`decrypt`, for an envelope already parsed with :func:`parse_envelope`."""
        self.check_signature(msg_signature, timestamp, nonce, envelope.encrypt)
        return self.decrypt_ciphertext(envelope.encrypt)

    def decrypt_ciphertext(self, encrypt: str) -> str:
        """Decrypt a base64 ``Encrypt`` value and return the message.

        Not authenticated: check the signature first (:meth:`check_signature`).

        :raises DecodeBase64Error: not base64.
        :raises DecryptError: empty, or not whole AES blocks.
        :raises IllegalBufferError: a pad length outside 1-32, a header or length field the
            buffer cannot hold, or a message that is not UTF-8.
        :raises ReceiveIdError: the message ends with another receive id.
        """
        try:
            ciphertext = binascii.a2b_base64(encrypt, strict_mode=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise DecodeBase64Error(f"Encrypt is not valid base64: {exc}") from None
        if not ciphertext or len(ciphertext) % AES.block_size:
            raise DecryptError(f"ciphertext of {len(ciphertext)} bytes is not a whole number of AES blocks")
        padded = strxor(self._ecb.decrypt(ciphertext), self._iv + ciphertext[:-AES.block_size])
        plain = _strip_padding(padded)
        if len(plain) < 20:
            raise IllegalBufferError(f"decrypted buffer of {len(plain)} bytes is shorter than its header")
        end = 20 + int.from_bytes(plain[16:20], "big")
        if end > len(plain):
            raise IllegalBufferError(f"length field says {end - 20} bytes, buffer holds {len(plain) - 20}")
        if plain[end:] != self._receive_id:
            raise ReceiveIdError("message is for another receive id")
        try:
            return plain[20:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IllegalBufferError(f"message is not UTF-8: {exc}") from None

    # -- sending ---------------------------------------------------------------------------

    def encrypt(self, plaintext: str) -> str:
        """Encrypt ``plaintext`` for WeCom; return the base64 ciphertext.

        :raises EncryptError: the text is not encodable or the random source misbehaves.
        """
        try:
            message = plaintext.encode("utf-8")
        except (AttributeError, UnicodeEncodeError) as exc:
            raise EncryptError(f"plaintext is not encodable text: {exc}") from None
        prefix = self._random_bytes(16)
        if len(prefix) != 16:
            raise EncryptError(f"random_bytes(16) returned {len(prefix)} bytes")
        buffer = b"".join((prefix, len(message).to_bytes(4, "big"), message, self._receive_id))
        ciphertext = AES.new(self._key, AES.MODE_CBC, self._iv).encrypt(pad(buffer, BLOCK_SIZE))
        try:
            return binascii.b2a_base64(ciphertext, newline=False).decode("ascii")
        except (binascii.Error, UnicodeDecodeError) as exc:  # pragma: no cover - cannot happen
            raise EncodeBase64Error(str(exc)) from None

    def encrypt_reply(self, plaintext: str, nonce: str | int, timestamp: str | int | None = None) -> str:
        """Encrypt and sign a passive reply; return the PROTOCOL §4.6 envelope XML.

        :param plaintext: the inner reply XML (see :mod:`dashboard.wecom.replies`).
        :param nonce: usually the request's nonce.
        :param timestamp: usually the request's; defaults to the clock.
        :raises GenReturnXmlError: the timestamp is not digits, or the nonce not XML-safe.
        """
        timestamp = self._timestamp(timestamp)
        encrypt = self.encrypt(plaintext)
        return _REPLY_TEMPLATE.format(
            encrypt=encrypt,
            signature=self.sign(timestamp, nonce, encrypt),
            timestamp=timestamp,
            nonce=cdata(str(nonce)),
        )

    def encrypt_message(
        self,
        plaintext: str,
        timestamp: str | int | None = None,
        nonce: str | int | None = None,
        agent_id: str | int | None = None,
        *,
        to_user: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """Build a callback POST exactly as WeCom would send it (for simulators and tests).

        :param timestamp: defaults to the clock.
        :param nonce: defaults to random digits.
        :param agent_id: the ``AgentID`` element; omitted when None.
        :param to_user: the ``ToUserName`` element; defaults to the receive id.
        :returns: ``(query, body)`` where query holds msg_signature, timestamp and nonce.
        """
        timestamp = self._timestamp(timestamp)
        if nonce is None:
            nonce = str(int.from_bytes(self._random_bytes(4), "big"))
        encrypt = self.encrypt(plaintext)
        parts = ["<xml><ToUserName>", cdata(self.receive_id if to_user is None else to_user), "</ToUserName>"]
        if agent_id is not None:
            parts += ["<AgentID>", cdata(str(agent_id)), "</AgentID>"]
        parts += ["<Encrypt><![CDATA[", encrypt, "]]></Encrypt></xml>"]
        signed = self.sign(timestamp, nonce, encrypt)
        query = {"msg_signature": signed, "timestamp": timestamp, "nonce": str(nonce)}
        return query, "".join(parts).encode("utf-8")

    def _timestamp(self, timestamp: str | int | None) -> str:
        timestamp = str(int(self._clock())) if timestamp is None else str(timestamp)
        if not timestamp.isascii() or not timestamp.isdigit():
            raise GenReturnXmlError(f"timestamp {timestamp!r} is not a number of seconds")
        return timestamp


def _strip_padding(padded: bytes) -> bytes:
    """Drop the padding as the official WXBizMsgCrypt does: the last byte is its length, 1-32.

    Not pycryptodome's ``unpad(data, 32)``: it also demands a whole number of 32-byte blocks and
    equal pad bytes, which the official library never checks, so a sender padding to AES's 16
    bytes (every PKCS#7 padding of 1-32 bytes is read) would be refused here and accepted by
    WeCom's own code. The signature already vouches for the ciphertext; the length field and
    the receive id, which the official library does check, are checked after this.

    :raises IllegalBufferError: the pad length is 0 or above 32.
    """
    size = padded[-1]
    if not 1 <= size <= BLOCK_SIZE:
        raise IllegalBufferError(f"bad padding: a pad length of {size} (PKCS#7 to 32 allows 1-32)")
    return padded[:-size]


def _decode_key(encoding_aes_key: str) -> bytes:
    """EncodingAESKey -> 32-byte AES key; IllegalAesKeyError (a ValueError) otherwise."""
    if not isinstance(encoding_aes_key, str) or len(encoding_aes_key) != 43:
        raise IllegalAesKeyError("EncodingAESKey must be a string of 43 characters")
    try:
        key = binascii.a2b_base64(encoding_aes_key + "=", strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise IllegalAesKeyError(f"EncodingAESKey is not base64: {exc}") from None
    if len(key) != 32:
        raise IllegalAesKeyError(f"EncodingAESKey decodes to {len(key)} bytes, not 32")
    return key
