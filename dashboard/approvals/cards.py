"""The cards approvals sends in WeCom: the request to an approver (批准 / 驳回), what it becomes
once someone decides, and the notices to a campaign's author. Written in DEFAULT_LANGUAGE: the
people who read them are in WeCom, not on a page of ours (cards.words)."""
from __future__ import annotations

from contextlib import contextmanager
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..campaigns.links import sign_in_url
from ..directory import snapshot
from ..i18n import format_time
from ..models import Approval, ApprovalCard, Campaign, User

APPROVE, REJECT = "approve", "reject"  # the buttons' keys: EventKey of a click
TASK_PREFIX = "approval-"  # approval cards' task ids; kept out of reports (no campaign's batch)
TITLE, DESC, VALUE, CAPTION, SUBTITLE = 36, 44, 30, 10, 160  # PROTOCOL §3.2 lengths, in characters
REPLACE = 30  # the greyed button's text after a decision (WeCom names no limit: kept short)


@contextmanager
def words():
    """Texts for WeCom in the dashboard's default language, whoever's request this is."""
    with force_locale(current_app.config["DEFAULT_LANGUAGE"]):
        yield


def task_id(approval: Approval, user: User) -> str:
    """Unique within the app, also across a reset database: [0-9A-Za-z_-]."""
    return f"{TASK_PREFIX}{approval.id}-u{user.id}-{approval.requested_at:%y%m%d%H%M%S}"


def name_of(user: User | None) -> str:
    """A person as WeCom shows them: their directory name, else the dashboard's user name."""
    if user is None:
        return "?"
    return (user.wecom_userid and snapshot.names().get(user.wecom_userid)) or user.username


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


def _facts(approval: Approval) -> list[dict]:
    campaign = approval.campaign
    author = campaign.created_by or approval.requested_by
    by = ({"type": 3, "keyname": _("By"), "userid": author.wecom_userid}  # WeCom shows the member
          if author is not None and author.wecom_userid
          else {"keyname": _("By"), "value": _cut(name_of(author), VALUE)})
    count = _("everyone (@all)") if approval.everyone else _("%(num)s people", num=f"{approval.recipients:,}")
    when = format_time(campaign.send_at, "short", campaign.timezone) if campaign.send_at else _("now")
    return [by, {"keyname": _("To"), "value": _cut(count, VALUE)},
            {"keyname": _("When"), "value": _cut(when, VALUE)}]


def request_card(approval: Approval, card: ApprovalCard) -> dict:
    """The card an approver gets: what would be sent to whom and when, a link to the read-only
    preview, 批准 and 驳回."""
    with words():
        preview = sign_in_url("approvals.show", approval_id=approval.id)
        return {
            "card_type": "button_interaction",
            "source": {"desc": _cut(_("Approvals"), 20)},
            "main_title": {"title": _cut(_("Approve this send?"), TITLE),
                           "desc": _cut(approval.campaign.name, DESC)},
            "horizontal_content_list": [*_facts(approval),
                                        {"type": 1, "keyname": _("Card"), "value": _("Preview"),
                                         "url": preview}],
            "card_action": {"type": 1, "url": preview},
            "task_id": card.task_id,
            "button_list": [{"text": _cut(_("Approve"), CAPTION), "style": 1, "key": APPROVE},
                            {"text": _cut(_("Reject"), CAPTION), "style": 4, "key": REJECT}],
        }


def outcome_text(approval: Approval) -> str:
    """What an approval came to, in a line: "已批准 · 张三 · 17:03"; "" while it waits. In the
    current language (cards for WeCom: inside :func:`words`)."""
    if approval.decision == "withdrawn":
        return _("No longer valid: the campaign was changed or cancelled")
    if approval.decision not in ("approved", "rejected"):
        return ""
    verb = _("Approved") if approval.decision == "approved" else _("Rejected")
    when = approval.decided_at.astimezone(ZoneInfo(approval.campaign.timezone)).strftime("%H:%M")
    return f"{verb} · {name_of(approval.decided_by)} · {when}"


def decided_card(approval: Approval, card: ApprovalCard, *, decider: bool = False) -> dict:
    """The request card once decided: its buttons replaced by the outcome. The rejecter's own
    card opens the page where they give their reason."""
    with words():
        replaced = {**request_card(approval, card), "replace_text": _cut(outcome_text(approval), REPLACE)}
        if decider and approval.decision == "rejected":
            replaced["card_action"] = {"type": 1, "url": sign_in_url("approvals.reason",
                                                                     approval_id=approval.id)}
            replaced["sub_title_text"] = _("Open the card to say why you rejected it.")
    return replaced


NOTICE_TITLES = {  # a notice's kind -> its title
    "started": _l("Your scheduled campaign started"),
    "sent": _l("Your campaign was sent"),
    "partially_sent": _l("Your campaign was partly sent"),
    "failed": _l("Your campaign could not be sent"),
    "approved": _l("Your campaign was approved"),
    "rejected": _l("Your campaign was rejected"),
    "reason": _l("Why your campaign was rejected"),
}
# The ledger's figures a finished campaign's notice shows (keynames: at most 5 characters).
FIGURES = (("accepted", _l("Reached")), ("invalid", _l("Invalid")), ("unlicensed", _l("No licence")),
           ("failed", _l("Failed")))


def notice_card(campaign: Campaign, kind: str, figures: dict, approval: Approval | None) -> dict:
    """A text_notice to the author: what happened, the figures, a link to the campaign page."""
    with words():
        facts = [{"keyname": str(label), "value": f"{figures.get(state, 0):,}"}
                 for state, label in FIGURES if kind not in ("approved", "rejected")]
        card = {
            "card_type": "text_notice",
            "source": {"desc": _cut(_("Card campaigns"), 20)},
            "main_title": {"title": _cut(str(NOTICE_TITLES[kind]), TITLE), "desc": _cut(campaign.name, DESC)},
            "card_action": {"type": 1, "url": sign_in_url("campaigns.show", campaign_id=campaign.id)},
        }
        if approval is not None:
            facts = [{"keyname": _("Approver"), "value": _cut(name_of(approval.decided_by), VALUE)}]
            if approval.reason:
                card["sub_title_text"] = _cut(_("Reason: %(reason)s", reason=approval.reason), SUBTITLE)
        if facts:
            card["horizontal_content_list"] = facts
        return card

