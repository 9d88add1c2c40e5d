"""Callback crypto cost beside the raw primitives it is made of.

Run from the repo root: ``.venv/bin/python bench/bench_crypto.py [iterations] [repeats]``.
Prints the median microseconds per operation over the repeats, for a ~700-byte
vote_interaction event (test vector NV1), and the ratio to the raw cost. The raw cost is
the same SHA-1 + base64 + AES-256-CBC work written directly against hashlib, binascii and
pycryptodome. Parsing XML is extra work the raw path does not do, so the decrypt side is
reported twice: crypto only (envelope parse + verify + decrypt) and crypto + parse_event.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from Crypto.Cipher import AES  # noqa: E402

from dashboard.wecom.crypto import CallbackCrypto, parse_envelope  # noqa: E402
from dashboard.wecom.events import parse_event  # noqa: E402


def per_call_us(fns, iterations: int, repeats: int) -> list[float]:
    """Median over ``repeats`` of the mean microseconds per call, for each function.

    The functions take turns within each repeat, so a busy machine slows them alike
    and the ratios stay fair.
    """
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            start = time.perf_counter()
            for _ in range(iterations):
                fn()
            out.append((time.perf_counter() - start) / iterations * 1e6)
    return [statistics.median(out) for out in samples]


def main(iterations: int = 2000, repeats: int = 7) -> None:
    vectors = json.loads((ROOT / "tests/data/vectors.json").read_text(encoding="utf-8"))["vectors"]
    vector = next(v for v in vectors if v["name"] == "NV1-vote-event")
    token, sig, ts, nonce = vector["token"], vector["msg_signature"], vector["timestamp"], vector["nonce"]
    body, encrypt, plaintext = vector["post_body"].encode(), vector["encrypt"], vector["expected_plaintext"]
    crypto = CallbackCrypto(token, vector["encoding_aes_key"], vector["receive_id"])
    key = binascii.a2b_base64(vector["encoding_aes_key"] + "=")
    assert crypto.decrypt(sig, ts, nonce, body) == plaintext

    def raw_decrypt() -> bytes:
        hashlib.sha1("".join(sorted((token, ts, nonce, encrypt))).encode()).hexdigest()
        return AES.new(key, AES.MODE_CBC, key[:16]).decrypt(binascii.a2b_base64(encrypt))

    message = plaintext.encode()

    def raw_encrypt() -> str:
        buf = os.urandom(16) + len(message).to_bytes(4, "big") + message + b"wx5823bf96d3bd56c7"
        buf += bytes([32 - len(buf) % 32]) * (32 - len(buf) % 32)
        out = binascii.b2a_base64(AES.new(key, AES.MODE_CBC, key[:16]).encrypt(buf), newline=False).decode()
        hashlib.sha1("".join(sorted((token, ts, nonce, out))).encode()).hexdigest()
        return out

    envelope = parse_envelope(body)
    rows = {
        "raw decrypt (sha1 + b64decode + AES)": raw_decrypt,
        "crypto.decrypt (envelope+verify+decrypt)": lambda: crypto.decrypt(sig, ts, nonce, body),
        "crypto.decrypt_envelope (pre-parsed)": lambda: crypto.decrypt_envelope(sig, ts, nonce, envelope),
        "parse_envelope alone": lambda: parse_envelope(body),
        "parse_event alone": lambda: parse_event(plaintext),
        "raw decrypt + parse_event": lambda: (raw_decrypt(), parse_event(plaintext)),
        "crypto.decrypt + parse_event": lambda: parse_event(crypto.decrypt(sig, ts, nonce, body)),
        "raw encrypt (AES + b64encode + sha1)": raw_encrypt,
        "crypto.encrypt_reply (encrypt+sign)": lambda: crypto.encrypt_reply(plaintext, nonce, ts),
    }
    us = dict(zip(rows, per_call_us(list(rows.values()), iterations, repeats)))
    print(f"plaintext {len(message)} bytes, POST body {len(body)} bytes; median of {repeats} x {iterations} calls")
    for label, value in us.items():
        print(f"  {label:42s} {value:7.1f} us")
    ratios = [
        ("crypto only", "crypto.decrypt (envelope+verify+decrypt)", "raw decrypt (sha1 + b64decode + AES)"),
        ("crypto only, envelope pre-parsed", "crypto.decrypt_envelope (pre-parsed)", "raw decrypt (sha1 + b64decode + AES)"),
        ("crypto+parse vs raw crypto", "crypto.decrypt + parse_event", "raw decrypt (sha1 + b64decode + AES)"),
        ("crypto+parse vs raw crypto + parse_event", "crypto.decrypt + parse_event", "raw decrypt + parse_event"),
        ("encrypt_reply vs raw encrypt+sign", "crypto.encrypt_reply (encrypt+sign)", "raw encrypt (AES + b64encode + sha1)"),
    ]
    for name, ours, raw in ratios:
        print(f"ratio {name:42s} {us[ours] / us[raw]:5.2f}x")

if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
