"""Loads the copied sample data (tests/conformance/data/*.json) as pytest parameters named by case id."""
import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


def cases(name: str, kind: str | None = None) -> list:
    """The cases of data/<name>.json (only those of ``kind`` when given), each a param with its id."""
    found = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))["cases"]
    return [pytest.param(case, id=case["id"]) for case in found if kind is None or case.get("kind") == kind]
