"""Fixtures for the protocol package: the shared crypto vectors and key set N (PROTOCOL §7.3)."""
import json
from pathlib import Path

import pytest

from dashboard.wecom.crypto import CallbackCrypto

VECTORS_PATH = Path(__file__).resolve().parents[1] / "data" / "vectors.json"

# Key set N: made for the dashboard's own tests (PROTOCOL §7.3).
TOKEN_N = "CampaignTok3n"
KEY_N = "03VqSMYhl5vWmK5DSEbeykJ3sNEENDrQyaXRvLUmPYI"
AES_KEY_N = bytes.fromhex("d3756a48c621979bd698ae434846deca4277b0d104343ad0c9a5d1bcb5263d82")
RECEIVE_ID_N = "ww0123456789abcdef"


def fixed_random(prefix: bytes):
    """A random_bytes stand-in that always answers with the start of ``prefix``."""
    return lambda n: prefix[:n]


@pytest.fixture(scope="session")
def vectors() -> dict:
    """The vectors of tests/data/vectors.json by name."""
    return {v["name"]: v for v in json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["vectors"]}


@pytest.fixture
def crypto_n() -> CallbackCrypto:
    """Key set N with a fixed random prefix and clock, so every output is reproducible."""
    return CallbackCrypto(
        TOKEN_N, KEY_N, RECEIVE_ID_N, random_bytes=fixed_random(b"fixed-prefix-16b"), clock=lambda: 1700000123.9
    )
