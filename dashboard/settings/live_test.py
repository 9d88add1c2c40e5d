"""The live self-test: a card sent to the signed-in admin's own WeCom account, and a checklist that
fills itself in as WeCom calls back. It answers what only a live WeCom can (docs/wecom-conformance.md):
does the card change after a click, through the API (AFTER_CLICK_VIA=api) or a passive reply
(=reply), and is a click's ResponseCode refused when used a second time?

The session keeps what was sent; the click and the menu pick are CardEvents (the callback keeps
self-test events with outcome "self-test"); the update's outcome is written on the click's code
row (``used_for``), so every look, in any tab or by any admin, reads the same answer.
"""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from flask_babel import gettext as _

from .. import wecom_app
from ..callback import codes
from ..callback.service import SELF_TEST_CARD_PREFIX, SELF_TEST_REPLY
from ..extensions import db
from ..i18n import format_time
from ..models import CardEvent, ResponseCode
from ..models.event import MENU
from ..models.event import REPLY as CLICK
from ..wecom.errors import ApiError, RetryableError

log = logging.getLogger(__name__)

SESSION_KEY = "live_test"
CLICK_KEY, MENU_KEY = "selftest_click", "selftest_menu"
BUTTON_TEXT, MENU_TEXT = "点此自检", "菜单自检"
PASSED_CAPTION = "自检通过"
USED_FOR = "self_test"  # the code row's used_for once claimed, and after a successful update
FAILED = USED_FOR + " failed: errcode "  # + WeCom's errcode: the update was refused
REUSED = USED_FOR + "; again: "  # + "accepted" or "errcode N": the same code a second time
SINGLE_USE = 42022  # WeCom's answer to a used response_code
WECOM_ERRORS = (ApiError, RetryableError)


@dataclass(frozen=True)
class Check:
    """One step of the checklist; ``state`` is passed, waiting, failed or look (for the person)."""

    name: str
    state: str
    detail: str
    optional: bool = False


def self_test_card(task_id: str) -> dict:
    """The card sent: one button and one menu item, each a callback to watch for."""
    return {"card_type": "button_interaction", "task_id": task_id,
            "main_title": {"title": "仪表盘自检", "desc": "卡片活动仪表盘"},
            "sub_title_text": f"请点“{BUTTON_TEXT}”；也可在右上角菜单里选“{MENU_TEXT}”。",
            "button_list": [{"text": BUTTON_TEXT, "key": CLICK_KEY, "style": 1}],
            "action_menu": {"desc": "自检", "action_list": [{"text": MENU_TEXT, "key": MENU_KEY}]}}


def passed_card(task_id: str) -> dict:
    """The whole card of the second update: the sent card, its buttons replaced by PASSED_CAPTION."""
    card = {key: value for key, value in self_test_card(task_id).items() if key != "task_id"}
    return {**card, "replace_text": PASSED_CAPTION}


def send(userid: str, *, actor: str) -> dict:
    """Send the test card to ``userid``: what the session keeps, WeCom's refusal included."""
    task_id = SELF_TEST_CARD_PREFIX + f"{int(time.time())}-{secrets.token_hex(4)}"
    state = {"task_id": task_id, "userid": userid, "sent_at": time.time()}
    try:
        result = wecom_app.client().send_template_card(self_test_card(task_id), touser=[userid])
    except WECOM_ERRORS as exc:
        log.warning("self-test card to %s by %s refused: %s", userid, actor, exc)
        return {**state, "error": {"errcode": exc.errcode, "errmsg": exc.errmsg,
                                   "explanation": exc.explanation}}
    log.info("self-test card %s sent to %s by %s", task_id, userid, actor)
    missed = {u.lower() for u in result.invalid_users + result.unlicensed_users}
    return {**state, "msgid": result.msgid, "undelivered": userid.lower() in missed}


def checklist(state: dict | None) -> list[Check]:
    """Each step as it stands now. With AFTER_CLICK_VIA=api, the first look after the click
    spends the click's ResponseCode: the card update, then the same code once more."""
    if not state:
        return []
    steps = [_sent(state)]
    if not state.get("msgid"):
        return steps
    click, menu = _event(state["task_id"], CLICK), _event(state["task_id"], MENU)
    steps.append(_received(_("Click received"), state, click,
                           _("Click %(button)s on the card in WeCom (phone or desktop).", button=BUTTON_TEXT)))
    if current_app.config["AFTER_CLICK_VIA"] == "api":
        code = _spend_once(click, state) if click is not None else None
        steps += [_updated(click, code), _refused_again(click, code)]
    else:
        steps.append(_replied(click))
    steps.append(_received(_("Menu pick received"), state, menu,
                           _("Open the card's menu (top right) and pick %(item)s.", item=MENU_TEXT), optional=True))
    return steps


def done(steps: list[Check]) -> bool:
    """Nothing left to wait for: the page stops asking."""
    return all(step.state != "waiting" for step in steps)


# --- spending the click's code ---------------------------------------------------------------


def _spend_once(click: CardEvent, state: dict) -> ResponseCode | None:
    """The click's code row; the look that claims it updates the card and tries the code again."""
    if not click.response_code:
        return None
    code = db.session.scalar(db.select(ResponseCode).filter_by(code=click.response_code))
    if code is not None and code.used_at is None and codes.claim(code, USED_FOR):
        _use(code, state)
    return code


def _use(code: ResponseCode, state: dict) -> None:
    """Update the card with the code (its outcome on the code row, committed), then, after a
    success, send the whole card with the same code and record WeCom's second answer."""
    client, value, userids = wecom_app.client(), code.code, [state["userid"]]
    try:
        client.update_template_card(value, userids=userids, replace_name=PASSED_CAPTION)
    except WECOM_ERRORS as exc:
        if isinstance(exc, RetryableError) and not exc.request_sent:  # WeCom never saw it: the
            codes.release(code)  # code stays good for the next look
            db.session.commit()
        else:
            _record(code, f"{FAILED}{exc.errcode}")
        return
    try:
        client.update_template_card(value, userids=userids, template_card=passed_card(state["task_id"]))
        again = "accepted"
    except WECOM_ERRORS as exc:
        again = f"errcode {exc.errcode}"
    _record(code, REUSED + again)


def _record(code: ResponseCode, used_for: str) -> None:
    code.used_for = used_for
    db.session.commit()
    log.info("self-test response code %s: %s", code.id, used_for)


# --- the steps -------------------------------------------------------------------------------


def _sent(state: dict) -> Check:
    name = _("Card sent")
    if error := state.get("error"):
        return Check(name, "failed", _("WeCom refused the card with errcode %(errcode)s: %(explanation)s "
                                       "(WeCom said: %(errmsg)s)", **error))
    values = {"msgid": state["msgid"], "userid": state["userid"], "time": format_time(_sent_at(state), "time")}
    if state.get("undelivered"):
        return Check(name, "failed", _("WeCom took the card (msgid %(msgid)s) but delivered it to nobody: "
                                       "%(userid)s is unknown to WeCom, outside the app's visible range "
                                       "or has no licence.", **values))
    return Check(name, "passed", _("Sent to %(userid)s at %(time)s, msgid %(msgid)s.", **values))


def _received(name: str, state: dict, event: CardEvent | None, waiting: str, optional: bool = False) -> Check:
    if event is None:
        return Check(name, "waiting", waiting, optional)
    seconds = max(0, round((event.received_at - _sent_at(state)).total_seconds()))
    return Check(name, "passed", _("From %(userid)s, %(seconds)s s after sending.",
                                   userid=event.from_user, seconds=seconds), optional)


def _updated(click: CardEvent | None, code: ResponseCode | None) -> Check:
    name = _("Card updated through the API")
    if click is None:
        return Check(name, "waiting", _("After the click."))
    if code is None:
        return Check(name, "failed", _("The click carried no ResponseCode, so the card cannot be updated."))
    if code.used_at is None:
        return Check(name, "waiting", _("WeCom could not be reached; trying again."))
    if (code.used_for or "").startswith(FAILED):
        return Check(name, "failed", _wecom_answer(_errcode(code.used_for)))
    return Check(name, "passed", _("WeCom took update_template_card with the click's ResponseCode: the "
                                   "button on your card now reads %(caption)s.", caption=PASSED_CAPTION))


def _refused_again(click: CardEvent | None, code: ResponseCode | None) -> Check:
    name = _("The same ResponseCode refused a second time")
    used_for = (code.used_for or "") if code is not None else ""
    if click is not None and (code is None or used_for.startswith(FAILED)):
        return Check(name, "failed", _("Not tried: the card update failed."))
    if not used_for.startswith(REUSED):
        return Check(name, "waiting", _("After the card update."))
    if used_for == REUSED + "accepted":
        return Check(name, "failed", _("WeCom took the same ResponseCode again (a whole card): on your corp a "
                                       "code can be used twice, contrary to the documentation. Worth reporting."))
    errcode = _errcode(used_for)
    if errcode == SINGLE_USE:
        return Check(name, "passed", _("WeCom answered errcode 42022: a ResponseCode is single use, as documented."))
    return Check(name, "failed", _("Not the documented 42022. %(answer)s", answer=_wecom_answer(errcode)))


def _replied(click: CardEvent | None) -> Check:
    name = _("Passive reply shown on the card")
    if click is None:
        return Check(name, "waiting", _("After the click."))
    return Check(name, "look", _("Look at the card on your phone: if its button reads %(reply)s, WeCom applies "
                                 "passive replies to card clicks on your corp; if it still reads %(button)s, "
                                 "set AFTER_CLICK_VIA=api.", reply=SELF_TEST_REPLY, button=BUTTON_TEXT))


def _wecom_answer(errcode: int) -> str:
    explanation = ApiError(errcode, "").explanation
    return _("WeCom answered errcode %(errcode)s: %(explanation)s", errcode=errcode, explanation=explanation)


def _errcode(used_for: str) -> int:
    return int(used_for.rsplit(" ", 1)[1])


def _event(task_id: str, kind: str) -> CardEvent | None:
    return db.session.scalars(db.select(CardEvent).filter_by(task_id=task_id, event=kind)
                              .order_by(CardEvent.id).limit(1)).first()


def _sent_at(state: dict) -> datetime:
    return datetime.fromtimestamp(state["sent_at"], timezone.utc)
