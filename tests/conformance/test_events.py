"""Decrypted callback XML from WeCom's docs and the SDKs' parser fixtures through parse_event (data/events.json)."""
import pytest

from dashboard.wecom.events import parse_event

from .cases import cases

# expected key -> the attribute of our parsed event that carries it
_ATTRS = ("kind", "msg_type", "event", "from_user", "to_user", "create_time", "agent_id", "msg_id", "event_key",
          "task_id", "card_type", "response_code", "selected", "change_type", "user_id", "new_user_id", "name",
          "departments")


@pytest.mark.parametrize("case", cases("events"))
def test_parse_event(case):
    expected = case["expected"]
    parsed = parse_event(case["inputs"]["xml"])
    got = {name: _field(parsed, name) for name in _ATTRS if name in expected}
    assert got == {name: expected[name] for name in got}
    raw_fields = expected.get("fields", {})
    assert {name: parsed.raw.get(name) for name in raw_fields} == raw_fields
    assert parsed.dedupe_key == parse_event(case["inputs"]["xml"]).dedupe_key  # a retry is the same event


def _field(parsed, name: str):
    """The attribute, or for a generic message the raw element (EventKey lives in raw there)."""
    if name == "event_key" and not hasattr(parsed, "event_key"):
        return parsed.raw.get("EventKey")
    return getattr(parsed, name)
