"""Tencent's official callback samples and the SDKs' crypto fixtures through CallbackCrypto (data/crypto.json)."""
import base64
import json

import pytest
from Crypto.Cipher import AES

from dashboard.wecom.crypto import CallbackCrypto, signature
from dashboard.wecom.errors import CryptoError
from dashboard.wecom.xmlsafe import parse_xml

from .cases import cases


def _crypto(case: dict, **kwargs) -> CallbackCrypto:
    inputs = case["inputs"]
    return CallbackCrypto(inputs["token"], inputs["encoding_aes_key"], inputs["receive_id"], **kwargs)


def _expect(case: dict, run) -> str | None:
    """Run ``run()``; with ``ok`` false, check it fails with the official errcode instead."""
    expected = case["expected"]
    if expected["ok"]:
        return run()
    with pytest.raises(CryptoError) as caught:
        run()
    assert caught.value.errcode == expected["errcode"], caught.value
    return None


@pytest.mark.parametrize("case", cases("crypto", "verify_url"))
def test_verify_url(case):
    i = case["inputs"]
    echo = _expect(case, lambda: _crypto(case).verify_url(i["msg_signature"], i["timestamp"], i["nonce"], i["echostr"]))
    if case["expected"]["ok"]:
        assert echo


@pytest.mark.parametrize("case", cases("crypto", "decrypt"))
def test_decrypt(case):
    i, expected = case["inputs"], case["expected"]
    inner = _expect(case, lambda: _crypto(case).decrypt(i["msg_signature"], i["timestamp"], i["nonce"], i["body"]))
    if not expected["ok"]:
        return
    if "plaintext" in expected:
        assert inner == expected["plaintext"]
    fields = parse_xml(inner)["xml"]
    assert {name: fields.get(name) for name in expected.get("fields", {})} == expected.get("fields", {})


@pytest.mark.parametrize("case", cases("crypto", "decrypt_ciphertext"))
def test_decrypt_ciphertext(case):
    i, expected = case["inputs"], case["expected"]
    crypto = _crypto(case)
    if "msg_signature" in i:
        crypto.check_signature(i["msg_signature"], i["timestamp"], i["nonce"], i["encrypt"])
    text = _expect(case, lambda: crypto.decrypt_ciphertext(i["encrypt"]))
    if "plaintext" in expected:
        assert text == expected["plaintext"]
    if "json_keys" in expected:  # Go's encoding/json matches keys case-insensitively, as the sample relies on
        assert {k.lower() for k in expected["json_keys"]} <= {k.lower() for k in json.loads(text)}


@pytest.mark.parametrize("case", cases("crypto", "encrypt_reply"))
def test_encrypt_reply_byte_exact(case):
    i = case["inputs"]
    prefix = i["random_prefix"].encode()
    crypto = _crypto(case, random_bytes=lambda n: prefix[:n])
    assert crypto.encrypt_reply(i["plaintext"], i["nonce"], i["timestamp"]) == case["expected"]["reply"]


@pytest.mark.parametrize("case", cases("crypto", "round_trip"))
def test_encrypt_reply_round_trip(case):
    i = case["inputs"]
    crypto = _crypto(case)
    reply = parse_xml(crypto.encrypt_reply(i["plaintext"], i["nonce"], i["timestamp"]))["xml"]
    assert reply["TimeStamp"] == i["timestamp"] and reply["Nonce"] == i["nonce"]
    assert crypto.decrypt_ciphertext(reply["Encrypt"]) == i["plaintext"]
    crypto.check_signature(reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"], reply["Encrypt"])


@pytest.mark.parametrize("case", cases("crypto", "signature"))
def test_signature(case):
    i = case["inputs"]
    assert signature(i["token"], i["timestamp"], i["nonce"], i["encrypt"]) == case["expected"]["signature"]


@pytest.mark.parametrize("case", cases("crypto", "check_signature"))
def test_check_signature(case):
    i = case["inputs"]
    crypto = CallbackCrypto(i["token"], "4Ma3YBrSBbX2aez8MJpXGBne5LSDwgGqHbhM9WPYIws", "")
    _expect(case, lambda: crypto.check_signature(i["msg_signature"], i["timestamp"], i["nonce"], i["echostr"]))


@pytest.mark.parametrize("case", cases("crypto", "aes_key"))
def test_aes_key(case):
    _expect(case, lambda: CallbackCrypto("token", case["inputs"]["encoding_aes_key"], "ww"))


@pytest.mark.parametrize("case", cases("crypto", "padding"))
def test_padding_of_1_to_32_bytes(case):
    """The buffer is built here as the rule describes (the source states a rule, not a ciphertext)."""
    i = case["inputs"]
    crypto = _crypto(case)
    message, receive_id = i["message"].encode(), i["receive_id"].encode()
    buffer = b"0123456789abcdef" + len(message).to_bytes(4, "big") + message + receive_id + bytes([i["pad"]]) * i["pad"]
    assert len(buffer) % 16 == 0 and len(buffer) % 32 != 0  # whole AES blocks, not whole 32-byte blocks
    key = base64.b64decode(i["encoding_aes_key"] + "=")
    encrypt = base64.b64encode(AES.new(key, AES.MODE_CBC, key[:16]).encrypt(buffer)).decode()
    assert _expect(case, lambda: crypto.decrypt_ciphertext(encrypt)) == case["expected"]["plaintext"]
