"""Sign in with WeCom. ``GET /auth/wecom`` sends the browser to WeCom: inside the WeCom client to
its silent OAuth page, elsewhere to its QR-code login. WeCom sends it back to
``/auth/wecom/callback`` with a one-time code and our state; the code names the member
(``auth/getuserinfo``) and wecom_access.py says whom they sign in as.

The state is random, kept in this browser's session with the page to land on, used once and for
10 minutes: a sign-in started elsewhere (a forged link, another browser) is refused, so nobody can
sign a victim's browser into the attacker's account. Attempts are throttled as password logins are
(per address), every outcome is audited, and a refusal is a page saying what to do, never a 500.
"""
from __future__ import annotations

import hmac
import secrets
import time
from urllib.parse import urlencode

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, ngettext
from flask_login import login_user

from ..extensions import db
from ..models import audit, utcnow
from ..wecom.client import INVALID_CODE, ApiError, NotAMemberError, RetryableError
from ..wecom_app import client
from . import service, sessions, throttle, wecom_access
from .decorators import public
from .views import bp

PENDING = "wecom_sign_in"  # session key: {state: {"next": a path or None, "at": epoch seconds}}
STATE_LIFE = 600  # seconds a started sign-in may take
KEEP_PENDING = 5  # sign-ins started at once (tabs) that are kept; the oldest goes first
THROTTLED_AS = "(wecom sign-in)"  # the throttle's account name: no username has a space
IN_WECOM = "wxwork"  # in the User-Agent of WeCom's own browser
CALLBACK_PATH = "/auth/wecom/callback"  # DASHBOARD_URL + this: the redirect_uri WeCom must trust


class Failed(Exception):
    """The sign-in stops here: reason (the audit log's word), the HTTP status, and what the page
    and the audit row say about it."""

    def __init__(self, reason: str, status: int = 400, *, target: str | None = None, **details):
        super().__init__(reason)
        self.reason, self.status, self.target, self.details = reason, status, target, details


@bp.get("/auth/wecom")
@public
def wecom_start():
    """Off to WeCom, with a new state kept in this browser's session (beside those of other tabs)."""
    target = service.safe_next(request.args.get("next"))
    state, now = secrets.token_hex(24), time.time()  # WeCom allows only a-zA-Z0-9
    pending = {s: kept for s, kept in session.get(PENDING, {}).items() if now - kept["at"] < STATE_LIFE}
    pending[state] = {"next": target, "at": now}
    session[PENDING] = dict(list(pending.items())[-KEEP_PENDING:])
    return redirect(authorize_url(state, in_wecom=IN_WECOM in request.user_agent.string.lower()))


def authorize_url(state: str, *, in_wecom: bool) -> str:
    """WeCom's sign-in page for this app: the silent OAuth inside the WeCom client, else the
    QR-code login; both come back to CALLBACK_PATH with a code and the state."""
    config = current_app.config
    back = config["DASHBOARD_URL"].rstrip("/") + CALLBACK_PATH
    corp, agent = config["WECOM_CORP_ID"], config["WECOM_AGENT_ID"]
    if in_wecom:
        query = urlencode({"appid": corp, "redirect_uri": back, "response_type": "code",
                           "scope": "snsapi_base", "state": state, "agentid": agent})
        return f"{config['WECOM_OAUTH_BASE'].rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"
    query = urlencode({"login_type": "CorpApp", "appid": corp, "agentid": agent, "redirect_uri": back,
                       "state": state})
    return f"{config['WECOM_SSO_BASE'].rstrip('/')}/wwlogin/sso/login?{query}"


@bp.get(CALLBACK_PATH)
@public
def wecom_callback():
    """Back from WeCom: the state, the code, the member, the user; a new session for them."""
    source = request.remote_addr or ""
    try:
        service.admit(THROTTLED_AS, source, refused="login.wecom_refused")
        target = _take_state(request.args.get("state"))
        userid = _member(request.args.get("code"), target)
        try:
            user = wecom_access.account_for(userid)
        except wecom_access.Refused as refused:
            raise Failed(refused.reason, 403, target=target, wecom_userid=userid) from None
    except service.TooManyAttempts as locked:
        db.session.commit()  # the refusal's audit row
        return _refused(Failed("too_many", 429, minutes=locked.minutes))
    except Failed as failed:
        db.session.rollback()
        audit("login.wecom_failed", actor=failed.details.get("wecom_userid") or "anonymous",
              reason=failed.reason, source=source, **failed.details)
        db.session.commit()
        return _refused(failed)
    user.last_login_at = utcnow()
    audit("login.wecom", user, actor=user, source=source, wecom_userid=userid)
    db.session.commit()
    throttle.succeeded(THROTTLED_AS, source)
    session.clear()  # a new session: nothing set before the sign-in carries over
    login_user(user)
    sessions.start(user)
    return redirect(target or url_for("main.home"))


def _take_state(given: str | None) -> str | None:
    """Use up the state this browser was given (compared in constant time); the page to land on."""
    if not given:
        raise Failed("state_missing")
    pending = session.get(PENDING, {})
    found = next((state for state in pending if hmac.compare_digest(state.encode(), given.encode())), None)
    if found is None:
        raise Failed("state_wrong")
    kept = pending.pop(found)
    session[PENDING] = pending
    if time.time() - kept["at"] >= STATE_LIFE:
        raise Failed("state_expired", target=kept["next"])
    return kept["next"]


def _member(code: str | None, target: str | None) -> str:
    """The member WeCom gave the code to; Failed when WeCom says no."""
    if not code:
        raise Failed("code_missing", target=target)
    try:
        return client().get_user_info(code)
    except NotAMemberError:
        raise Failed("not_member", 403, target=target) from None
    except ApiError as error:
        reason = "code_invalid" if error.errcode == INVALID_CODE else "wecom_error"
        raise Failed(reason, target=target, errcode=error.errcode) from None
    except RetryableError as error:
        raise Failed("wecom_unreachable", target=target, errcode=error.errcode) from None


def _refused(failed: Failed):
    """The page of a sign-in that did not work: what happened, and what to do."""
    happened, to_do = _explained(failed)
    again = url_for("auth.wecom_start", next=failed.target) if failed.target else url_for("auth.wecom_start")
    return render_template("auth/wecom_refused.html", happened=happened, to_do=to_do, again=again,
                           reason=failed.reason), failed.status


def _explained(failed: Failed) -> tuple[str, str]:
    start_again = _("Start again: sign in with WeCom once more.")
    ask_admin = _("Ask a dashboard admin to link your WeCom account to a user, or to grant your "
                  "department or tag a role.")
    userid = failed.details.get("wecom_userid", "")
    match failed.reason:
        case "state_missing" | "state_wrong":
            return _("This sign-in was not started in this browser, or its link was used already."), start_again
        case "state_expired":
            return _("The sign-in took longer than 10 minutes."), start_again
        case "code_missing":
            return _("WeCom sent no sign-in code: the sign-in was cancelled."), start_again
        case "code_invalid":
            return _("WeCom did not take the sign-in code: it was used already, or it expired."), start_again
        case "wecom_error":
            return (_("WeCom refused the sign-in (error %(code)s).", code=failed.details.get("errcode")),
                    _("Try again; if it keeps failing, an admin checks the app's settings (the corp ID, "
                      "the secret, the trusted domain)."))
        case "wecom_unreachable":
            return _("WeCom did not answer."), _("Try again in a minute.")
        case "not_member":
            return (_("You signed in with a WeCom account outside this company."),
                    _("Sign in with your company's WeCom account."))
        case "deactivated":
            return _("Your dashboard user (WeCom account %(userid)s) is deactivated.", userid=userid), \
                _("Ask a dashboard admin to reactivate it.")
        case "ambiguous":
            return (_("Several dashboard users are linked to your WeCom account %(userid)s.", userid=userid),
                    _("Ask a dashboard admin to keep the link on one of them."))
        case "too_many":
            return (_("Too many sign-in attempts from this address."),
                    ngettext("Try again in %(num)s minute.", "Try again in %(num)s minutes.",
                             failed.details["minutes"]))
    return _("Your WeCom account %(userid)s has no access to this dashboard.", userid=userid), ask_admin
