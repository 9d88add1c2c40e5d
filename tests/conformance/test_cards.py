"""WeCom's own template_card request examples through the card rules (data/cards.json).

Each body is one WeCom's documentation gives for message/send or message/update_template_card: a card
WeCom accepts, so the rules may warn at a field (a recommended length WeCom truncates) but not refuse it.
"""
import pytest

from dashboard.wecom.cards import validate

from .cases import cases


def _refusals(problems: list) -> list:
    """The problems that stop a card (warnings, where the engine reports them, leave it usable)."""
    return [p for p in problems if getattr(p, "severity", "error") == "error"]


@pytest.mark.parametrize("case", cases("cards"))
def test_card_body(case):
    body = case["inputs"]["body"]
    problems = validate(body["template_card"], for_update=case["purpose"] == "update")
    assert case["expected"]["valid"] is True
    assert [(p.path, p.message) for p in _refusals(problems)] == []
