"""Callback crypto against the published vectors, hostile inputs, and round-trip properties."""
import base64
import hashlib
import json
import pickle
import string

import pytest
from Crypto.Cipher import AES
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashboard.wecom import errors
from dashboard.wecom.crypto import CallbackCrypto, Envelope, parse_envelope, signature
from dashboard.wecom.errors import (
    ComputeSignatureError,
    CryptoError,
    DecodeBase64Error,
    DecryptError,
    IllegalAesKeyError,
    IllegalBufferError,
    ReceiveIdError,
    SignatureError,
    XmlParseError,
)
from dashboard.wecom.events import parse_event
from dashboard.wecom.xmlsafe import parse_xml

from .conftest import AES_KEY_N, KEY_N, RECEIVE_ID_N, TOKEN_N, VECTORS_PATH, fixed_random

VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["vectors"]
KINDS = {"verify_url", "callback_post", "encrypt"}


def make(v, **kwargs):
    return CallbackCrypto(v["token"], v["encoding_aes_key"], v["receive_id"], **kwargs)


def raw_decrypt(key: bytes, encrypt: str) -> bytes:
    return AES.new(key, AES.MODE_CBC, key[:16]).decrypt(base64.b64decode(encrypt))


def forge(buffer: bytes, key: bytes = AES_KEY_N) -> str:
    """Encrypt ``buffer`` as is (no padding added), to build malformed ciphertexts."""
    return base64.b64encode(AES.new(key, AES.MODE_CBC, key[:16]).encrypt(buffer)).decode()


def layout(msg: bytes, receive_id: bytes = RECEIVE_ID_N.encode(), length: int | None = None) -> bytes:
    return b"R" * 16 + (len(msg) if length is None else length).to_bytes(4, "big") + msg + receive_id


def padded(buffer: bytes) -> bytes:
    n = 32 - len(buffer) % 32
    return buffer + bytes([n]) * n


def post_body(v) -> bytes:
    if "post_body" in v:
        return v["post_body"].encode()
    return f"<xml><ToUserName><![CDATA[{v['receive_id']}]]></ToUserName><Encrypt><![CDATA[{v['encrypt']}]]></Encrypt></xml>".encode()


# -- the published vectors ------------------------------------------------------------------


def test_every_vector_kind_is_covered():
    assert {v["kind"] for v in VECTORS} <= KINDS
    assert len(VECTORS) >= 6


@pytest.mark.parametrize("v", [v for v in VECTORS if v["kind"] == "verify_url"], ids=lambda v: v["name"])
def test_verify_url_vector(v):
    crypto = make(v)
    assert crypto.verify_url(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"]) == v["expected_plaintext"]
    mangled = v["echostr"].replace("+", " ")  # '+' decoded as a space by a form parser
    assert crypto.verify_url(v["msg_signature"], v["timestamp"], v["nonce"], mangled) == v["expected_plaintext"]


@pytest.mark.parametrize("v", [v for v in VECTORS if v["kind"] == "callback_post"], ids=lambda v: v["name"])
def test_callback_post_vector(v):
    crypto = make(v)
    assert crypto.sign(v["timestamp"], v["nonce"], v["encrypt"]) == v["msg_signature"]
    assert crypto.decrypt(v["msg_signature"], v["timestamp"], v["nonce"], post_body(v)) == v["expected_plaintext"]
    assert crypto.decrypt_ciphertext(v["encrypt"]) == v["expected_plaintext"]


@pytest.mark.parametrize("v", [v for v in VECTORS if v["kind"] == "encrypt"], ids=lambda v: v["name"])
def test_encrypt_vector_is_byte_exact(v):
    crypto = make(v, random_bytes=fixed_random(v["random_prefix"].encode()))
    assert crypto.encrypt(v["plaintext"]) == v["expected_encrypt"]
    assert crypto.encrypt_reply(v["plaintext"], v["nonce"], v["timestamp"]) == (
        "<xml>\n"
        f"<Encrypt><![CDATA[{v['expected_encrypt']}]]></Encrypt>\n"
        f"<MsgSignature><![CDATA[{v['expected_msg_signature']}]]></MsgSignature>\n"
        f"<TimeStamp>{v['timestamp']}</TimeStamp>\n"
        f"<Nonce><![CDATA[{v['nonce']}]]></Nonce>\n"
        "</xml>"
    )


@pytest.mark.parametrize("v", [v for v in VECTORS if v["kind"] != "encrypt"], ids=lambda v: v["name"])
def test_reencrypting_with_the_recovered_prefix_is_byte_exact(v):
    ciphertext = v.get("echostr") or v["encrypt"]
    prefix = raw_decrypt(make(v)._key, ciphertext)[:16]
    if "random_prefix_hex" in v:
        assert prefix.hex() == v["random_prefix_hex"]
    assert make(v, random_bytes=fixed_random(prefix)).encrypt(v["expected_plaintext"]) == ciphertext


def test_nv1_post_is_byte_exact_and_parses(vectors):
    v = vectors["NV1-vote-event"]
    crypto = make(v, random_bytes=fixed_random(bytes.fromhex(v["random_prefix_hex"])))
    query, body = crypto.encrypt_message(v["expected_plaintext"], v["timestamp"], v["nonce"], agent_id=1000002)
    assert query == {"msg_signature": v["msg_signature"], "timestamp": v["timestamp"], "nonce": v["nonce"]}
    assert body == v["post_body"].encode()
    event = parse_event(crypto.decrypt(query["msg_signature"], query["timestamp"], query["nonce"], body))
    assert (event.task_id, event.event_key, event.selected) == ("camp42-vote@1", "submit_vote", {"q_lunch": ["opt_a", "opt_c"]})


def test_key_set_n_layout(crypto_n):
    """random(16) | big-endian length | msg | receive id | PKCS#7 to 32, IV = key[:16]."""
    msg = "投票 ok".encode()
    plain = raw_decrypt(AES_KEY_N, crypto_n.encrypt("投票 ok"))
    assert plain == padded(b"fixed-prefix-16b" + len(msg).to_bytes(4, "big") + msg + RECEIVE_ID_N.encode())


def test_signature_is_sha1_of_the_sorted_values():
    expected = hashlib.sha1("".join(sorted(["tok", "1700000000", "42", "ENC"])).encode()).hexdigest()
    assert signature("tok", 1700000000, 42, "ENC") == signature("tok", "1700000000", "42", "ENC") == expected


def test_envelope_exposes_the_outer_fields(vectors):
    v = vectors["NV1-vote-event"]
    assert parse_envelope(v["post_body"]) == Envelope(encrypt=v["encrypt"], to_user=v["receive_id"], agent_id="1000002")


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0" encoding="UTF-8"?>\n<xml><ToUserName>corp</ToUserName><AgentID>7</AgentID><Encrypt>QUJD</Encrypt></xml>',
        "<xml>\n  <Encrypt><![CDATA[QUJD]]></Encrypt>\n  <AgentID> 7 </AgentID>\n<ToUserName>c&#111;rp</ToUserName></xml>",
        "<xml><ToUserName><![CDATA[corp]]></ToUserName><AgentID>7</AgentID><Encrypt><![CDATA[QUJD]]></Encrypt></xml>",
    ],
)
def test_envelope_shapes_agree(body):
    envelope = parse_envelope(body)
    assert (envelope.encrypt, envelope.to_user, envelope.agent_id.strip()) == ("QUJD", "corp", "7")


# -- hostile and broken input ---------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["", "short", "A" * 42, "A" * 44, "!" * 43, "A" * 42 + "=", "A" * 40 + "=AA", "A" * 42 + "\u00e9", None]
)
def test_bad_encoding_aes_key_is_a_value_error(key):
    with pytest.raises(IllegalAesKeyError) as info:
        CallbackCrypto(TOKEN_N, key, RECEIVE_ID_N)
    assert isinstance(info.value, ValueError) and info.value.errcode == -40004


@pytest.mark.parametrize("bad", ["0" * 40, "", "ü" * 40, None])
def test_wrong_signature(vectors, bad):
    v = vectors["A2-decrypt-text-message"]
    with pytest.raises(SignatureError) as info:
        make(v).decrypt(bad, v["timestamp"], v["nonce"], v["post_body"])
    assert info.value.errcode == -40001


def test_signature_over_other_values_is_refused(vectors):
    v = vectors["A1-verify-url"]
    crypto = make(v)
    with pytest.raises(SignatureError):
        crypto.verify_url(v["msg_signature"], str(int(v["timestamp"]) + 1), v["nonce"], v["echostr"])
    with pytest.raises(SignatureError):
        crypto.verify_url(v["msg_signature"].upper(), v["timestamp"], v["nonce"], v["echostr"])


def test_missing_signed_value_cannot_be_signed(vectors):
    v = vectors["A1-verify-url"]
    with pytest.raises(ComputeSignatureError) as info:
        make(v).verify_url(v["msg_signature"], None, v["nonce"], v["echostr"])
    assert info.value.errcode == -40003


def test_wrong_receive_id(vectors):
    v = vectors["NV1-vote-event"]
    crypto = CallbackCrypto(v["token"], v["encoding_aes_key"], "wwSomeOtherCorp")
    with pytest.raises(ReceiveIdError) as info:
        crypto.decrypt(v["msg_signature"], v["timestamp"], v["nonce"], v["post_body"])
    assert info.value.errcode == -40005


BUFFER = layout(b"<xml>pad me</xml>")  # 16 + 4 + 17 + 18 = 55 bytes -> pad 9
GOOD = padded(BUFFER)


@pytest.mark.parametrize(
    "plain, error",
    [
        (GOOD[:-1] + b"\x00", IllegalBufferError),  # pad 0
        (GOOD[:-1] + b"\x21", IllegalBufferError),  # pad 33
        (GOOD[:48], IllegalBufferError),  # whole AES blocks, but not 32-byte ones
        (b"\x20" * 32, IllegalBufferError),  # nothing left for the 20-byte header
        (padded(layout(b"<xml/>", length=10**6)), IllegalBufferError),  # length field past the end
        (padded(layout(b"<xml/>", length=7 + len(RECEIVE_ID_N))), IllegalBufferError),
        (padded(layout(b"\xff\xfe<xml/>")), IllegalBufferError),  # not UTF-8
        (padded(layout(b"<xml/>", receive_id=b"wwSomeOtherCorp")), ReceiveIdError),
        (padded(layout(b"<xml/>", receive_id=b"")), ReceiveIdError),
    ],
)
def test_malformed_plaintext_buffers(crypto_n, plain, error):
    with pytest.raises(error):
        crypto_n.decrypt_ciphertext(forge(plain))


def test_well_formed_forged_buffer_decrypts(crypto_n):
    assert crypto_n.decrypt_ciphertext(forge(GOOD)) == "<xml>pad me</xml>"


@pytest.mark.parametrize("encrypt", ["not base64!", "QUJ", "QUJD\n", "QU=JD", "你好", "=QUJD"])
def test_bad_base64(crypto_n, encrypt):
    with pytest.raises(DecodeBase64Error) as info:
        crypto_n.decrypt_ciphertext(encrypt)
    assert info.value.errcode == -40010


@pytest.mark.parametrize("size", [0, 1, 15, 17, 31, 33])
def test_ciphertext_not_whole_aes_blocks(crypto_n, size):
    with pytest.raises(DecryptError) as info:
        crypto_n.decrypt_ciphertext(base64.b64encode(b"\x01" * size).decode())
    assert info.value.errcode == -40007


# Cut by 16, seven of the 23 pad bytes (0x17) are left: read as the official sample reads them,
# 23 bytes go, the receive id is cut short, and -40005 it is (as WXBizMsgCrypt.py answers).
@pytest.mark.parametrize("cut, error", [(16, ReceiveIdError), (32, IllegalBufferError), (1, DecryptError)])
def test_truncated_ciphertext(vectors, cut, error):
    v = vectors["NV1-vote-event"]
    ciphertext = base64.b64decode(v["encrypt"])[:-cut]
    with pytest.raises(error):
        make(v).decrypt_ciphertext(base64.b64encode(ciphertext).decode())


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefgh", "bcdefghi"))
    + "]><xml><Encrypt>&i;</Encrypt></xml>"
)
HOSTILE_XML = {
    "billion-laughs": BILLION_LAUGHS,
    "entity": '<!DOCTYPE xml [<!ENTITY e "QUJD">]><xml><Encrypt>&e;</Encrypt></xml>',
    "external": '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
    "parameter": '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><xml><Encrypt>QUJD</Encrypt></xml>',
    "doctype": '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml><Encrypt>QUJD</Encrypt></xml>',
    "oversize": "<xml><Encrypt>" + "A" * 200_000 + "</Encrypt></xml>",
    "no-encrypt": "<xml><ToUserName>corp</ToUserName></xml>",
    "empty-encrypt": "<xml><Encrypt></Encrypt></xml>",
    "two-encrypts": "<xml><Encrypt>QUJD</Encrypt><Encrypt>QUJD</Encrypt></xml>",
    "nested-encrypt": "<xml><Encrypt><a>QUJD</a></Encrypt></xml>",
    "malformed": "<xml><Encrypt>QUJD</Encrypt>",
    "not-xml": "Encrypt=QUJD",
}


@pytest.mark.parametrize("body", HOSTILE_XML.values(), ids=HOSTILE_XML.keys())
def test_hostile_outer_xml_is_refused_before_anything_else(crypto_n, body):
    with pytest.raises(XmlParseError) as info:
        crypto_n.decrypt("0" * 40, "1", "2", body)
    assert info.value.errcode == -40002


def test_every_failure_is_a_crypto_error(crypto_n):
    for call in (lambda: crypto_n.decrypt_ciphertext("%%%"), lambda: crypto_n.decrypt("x", "1", "2", "<xml/>")):
        with pytest.raises(CryptoError):
            call()


# -- properties -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=600), prefix=st.binary(min_size=16, max_size=16))
def test_round_trip(text, prefix):
    crypto = CallbackCrypto(TOKEN_N, KEY_N, RECEIVE_ID_N, random_bytes=fixed_random(prefix))
    query, body = crypto.encrypt_message(text, 1700000000, "5")
    assert crypto.decrypt(query["msg_signature"], query["timestamp"], query["nonce"], body) == text
    assert raw_decrypt(AES_KEY_N, parse_envelope(body).encrypt)[:16] == prefix


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200), receive_id=st.sampled_from(["", "ww0123456789abcdef", "套件-suite"]))
def test_round_trip_any_receive_id(text, receive_id):
    crypto = CallbackCrypto(TOKEN_N, KEY_N, receive_id)
    assert crypto.decrypt_ciphertext(crypto.encrypt(text)) == text


@pytest.mark.parametrize("text", ["x" * 26, "x" * 58, "é" * 13, "😀" * 22 + "xx", "x" * 1018])
def test_full_32_byte_pad_block(crypto_n, text):
    """20 + len(msg) + len(receive id) a multiple of 32 -> a whole block of 0x20 is added."""
    assert (20 + len(text.encode()) + len(RECEIVE_ID_N)) % 32 == 0
    encrypt = crypto_n.encrypt(text)
    assert raw_decrypt(AES_KEY_N, encrypt).endswith(RECEIVE_ID_N.encode() + b"\x20" * 32)
    assert crypto_n.decrypt_ciphertext(encrypt) == text


def test_encrypt_reply_defaults_to_the_clock_and_survives_any_nonce(crypto_n):
    reply = parse_xml(crypto_n.encrypt_reply("<xml/>", "n]]>&once"))["xml"]
    assert (reply["TimeStamp"], reply["Nonce"]) == ("1700000123", "n]]>&once")
    crypto_n.check_signature(reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"], reply["Encrypt"])
    assert crypto_n.decrypt_ciphertext(reply["Encrypt"]) == "<xml/>"


PLAIN = st.text(string.ascii_letters + string.digits + "_+/=.@-", max_size=40)
WS = st.sampled_from(["", " ", "\n", "\r\n  ", "\t"])


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.tuples(st.sampled_from(["ToUserName", "AgentID", "Encrypt"]), PLAIN, st.booleans()), max_size=4),
    spaces=st.lists(WS, min_size=6, max_size=6),
)
@example(values=[("ToUserName", "", True), ("Encrypt", "0", False)], spaces=[""] * 6)  # empty CDATA
def test_plain_envelope_reading_agrees_with_the_xml_parser(values, spaces):
    """A body in the plain shape is read without the parser; the declaration forces the parser."""
    elements = [f"<{n}><![CDATA[{v}]]></{n}>" if cdata else f"<{n}>{v}</{n}>" for n, v, cdata in values]
    body = spaces[0] + "<xml>" + "".join(s + e for s, e in zip(spaces[1:], elements)) + spaces[5] + "</xml>"
    outcomes = []
    for text in (body, '<?xml version="1.0"?>' + body.lstrip()):
        try:
            outcomes.append(parse_envelope(text))
        except XmlParseError:
            outcomes.append("refused")
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize(
    "error, code",
    [
        (SignatureError, -40001), (XmlParseError, -40002), (ComputeSignatureError, -40003),
        (IllegalAesKeyError, -40004), (ReceiveIdError, -40005), (errors.EncryptError, -40006),
        (DecryptError, -40007), (IllegalBufferError, -40008), (errors.EncodeBase64Error, -40009),
        (DecodeBase64Error, -40010), (errors.GenReturnXmlError, -40011),
    ],
)  # fmt: skip
def test_official_error_codes(error, code):
    exc = error("detail")
    assert (exc.errcode, exc.errmsg, str(exc)) == (code, "detail", f"{code} {error.name}: detail")
    assert isinstance(exc, CryptoError) and isinstance(exc, errors.WeComError)
    assert error().errmsg == error.name
    assert pickle.loads(pickle.dumps(exc)).errmsg == "detail"


# -- issue 22, point 6: padding as the official sample reads it, errors as Tencent names them ------


def padded_to(size: int) -> bytes:
    """A buffer with PKCS#7 padding of exactly ``size`` bytes (1-32), in whole AES blocks."""
    filler = (-(len(BUFFER) + size)) % 16
    return layout(b"<xml>pad me</xml>" + b" " * filler) + bytes([size]) * size


@pytest.mark.parametrize("size", range(1, 33))
def test_every_pkcs7_pad_length_from_1_to_32_is_read(crypto_n, size):
    """The official decode takes the last byte as the pad length (1-32) and strips it: a sender
    padding to AES's 16 bytes (lengths that are not whole 32-byte blocks) is read too."""
    plain = padded_to(size)
    assert len(plain) % 16 == 0 and plain.endswith(bytes([size]) * size)
    assert crypto_n.decrypt_ciphertext(forge(plain)).startswith("<xml>pad me</xml>")


def test_pad_bytes_are_not_checked_as_the_official_sample_does_not(crypto_n):
    assert crypto_n.decrypt_ciphertext(forge(GOOD[:-2] + b"\x08\x09")) == "<xml>pad me</xml>"


def _signed_post(crypto, encrypt: str) -> tuple:
    """(msg_signature, timestamp, nonce, body) of a POST carrying ``encrypt``, correctly signed."""
    body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return crypto.sign("1700000000", "7", encrypt), "1700000000", "7", body


def _malformed(crypto, case: str):
    """One call per malformed input; each raises the official library's error."""
    good = crypto.encrypt("<xml/>")
    if case == "signature over other values":
        return lambda: crypto.decrypt("0" * 40, "1700000000", "7", _signed_post(crypto, good)[3])
    if case == "missing nonce":
        return lambda: crypto.decrypt("0" * 40, "1700000000", None, _signed_post(crypto, good)[3])
    if case == "malformed envelope":
        return lambda: crypto.decrypt(*_signed_post(crypto, good)[:3], "<xml><Encrypt>")
    if case == "43 characters, not base64":
        return lambda: CallbackCrypto(TOKEN_N, "!" * 43, RECEIVE_ID_N)
    if case == "key of 42 characters":
        return lambda: CallbackCrypto(TOKEN_N, KEY_N[:-1], RECEIVE_ID_N)
    if case == "random source gives 3 bytes":
        return lambda: CallbackCrypto(TOKEN_N, KEY_N, RECEIVE_ID_N, random_bytes=lambda n: b"abc").encrypt("x")
    if case == "reply timestamp not a number":
        return lambda: crypto.encrypt_reply("<xml/>", "7", "soon")
    if case == "reply nonce XML cannot carry":
        return lambda: crypto.encrypt_reply("<xml/>", "\x00", "1700000000")
    encrypt = {
        "not base64": "not*base64*at*all", "base64 without its padding": "QUJD" * 10 + "QUJ",
        "only padding": "====", "not whole AES blocks": base64.b64encode(b"x" * 20).decode(),
        "pad length 0": forge(GOOD[:-1] + b"\x00"), "pad length 33": forge(GOOD[:-1] + b"\x21"),
        "shorter than the header": forge(b"\x20" * 32),
        "length field past the end": forge(padded(layout(b"<xml/>", length=10**6))),
        "message not UTF-8": forge(padded(layout(b"\xff\xfe<xml/>"))),
        "another corp's message": forge(padded(layout(b"<xml/>", receive_id=b"wwSomeOtherCorp"))),
        "no receive id": forge(padded(layout(b"<xml/>", receive_id=b""))),
    }[case]
    return lambda: crypto.decrypt(*_signed_post(crypto, encrypt))


MALFORMED = [
    ("signature over other values", SignatureError, -40001, "ValidateSignature_Error"),
    ("malformed envelope", XmlParseError, -40002, "ParseXml_Error"),
    ("missing nonce", ComputeSignatureError, -40003, "ComputeSignature_Error"),
    ("43 characters, not base64", IllegalAesKeyError, -40004, "IllegalAesKey"),
    ("key of 42 characters", IllegalAesKeyError, -40004, "IllegalAesKey"),
    ("another corp's message", ReceiveIdError, -40005, "ValidateCorpid_Error"),
    ("no receive id", ReceiveIdError, -40005, "ValidateCorpid_Error"),
    ("random source gives 3 bytes", errors.EncryptError, -40006, "EncryptAES_Error"),
    ("not whole AES blocks", DecryptError, -40007, "DecryptAES_Error"),
    ("only padding", DecodeBase64Error, -40010, "DecodeBase64_Error"),
    ("pad length 0", IllegalBufferError, -40008, "IllegalBuffer"),
    ("pad length 33", IllegalBufferError, -40008, "IllegalBuffer"),
    ("shorter than the header", IllegalBufferError, -40008, "IllegalBuffer"),
    ("length field past the end", IllegalBufferError, -40008, "IllegalBuffer"),
    ("message not UTF-8", IllegalBufferError, -40008, "IllegalBuffer"),
    ("not base64", DecodeBase64Error, -40010, "DecodeBase64_Error"),
    ("base64 without its padding", DecodeBase64Error, -40010, "DecodeBase64_Error"),
    ("reply timestamp not a number", errors.GenReturnXmlError, -40011, "GenReturnXml_Error"),
    ("reply nonce XML cannot carry", errors.GenReturnXmlError, -40011, "GenReturnXml_Error"),
]


@pytest.mark.parametrize("case, error, code, name", MALFORMED, ids=[row[0] for row in MALFORMED])
def test_each_malformed_input_gets_the_official_code(crypto_n, case, error, code, name):
    with pytest.raises(CryptoError) as info:
        _malformed(crypto_n, case)()
    assert type(info.value) is error
    assert (info.value.errcode, info.value.code, info.value.name) == (code, code, name)
    assert str(info.value).startswith(f"{code} {name}: ")  # as the logs and the diagnostics page show it


def test_an_error_without_detail_reads_as_code_and_name():
    assert str(SignatureError()) == "-40001 ValidateSignature_Error"
