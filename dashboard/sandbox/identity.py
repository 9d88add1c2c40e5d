"""WeCom's identity provider as the sandbox plays it (issue 19, point 5): the QR-code login page
(WECOM_SSO_BASE), the in-client OAuth page (WECOM_OAUTH_BASE), the one-time codes they hand back
and auth/getuserinfo takes, and inbox links that open as the employee (the in-WeCom flow).

Requests are checked as WeCom checks them (the corp ID, the agent ID, a redirect_uri on the
app's trusted domain, here DASHBOARD_URL's host), so a code never leaves for another site.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import current_app, request, url_for
from flask_babel import gettext as _

from ..auth.service import safe_next
from ..extensions import db
from ..models import SandboxAuthCode, utcnow
from .answers import Refusal, ok

OPEN_AS = "sandbox_open_as"  # session key: the employee an inbox link opens as, for one sign-in
CODE_LIFE = timedelta(minutes=5)  # WeCom: a code lives 5 minutes and is used once
KEEP_CODES = timedelta(hours=1)  # older codes are deleted as new ones are issued
USER_TICKET_LIFE = 1800
SCOPES = ("snsapi_base", "snsapi_privateinfo")
STATE_BYTES = 128  # WeCom's limit for state
WECOM_LOGIN = "/auth/wecom"  # the dashboard's WeCom sign-in, reached by its path like any link
QR_SIZE = 25  # cells a side of the decorative QR code
# A card's objects whose url opens a page (as campaigns.links has them), and lists of such objects.
LINK_FIELDS = ("card_action", "quote_area", "image_text_area")
LINK_LISTS = ("jump_list", "horizontal_content_list", "button_list")


class Refused(ValueError):
    """A request WeCom would refuse; the message says why, for the person reading the page."""


@dataclass(frozen=True)
class LoginRequest:
    """Where a checked sign-in request sends the browser back, and the state to hand back."""

    redirect_uri: str
    state: str


def check_sso(args) -> LoginRequest:
    """The QR-code login's parameters: login_type=CorpApp, appid, agentid, redirect_uri, state."""
    if args.get("login_type") != "CorpApp":
        raise Refused(_("login_type must be CorpApp, the sign-in to a company's own app."))
    _check_app(args, agent_required=True)
    return _login_request(args)


def check_oauth(args) -> LoginRequest:
    """The in-client authorize link's parameters; agentid is needed only for snsapi_privateinfo."""
    if args.get("response_type") != "code":
        raise Refused(_("response_type must be code."))
    if args.get("scope") not in SCOPES:
        raise Refused(_("scope must be snsapi_base or snsapi_privateinfo."))
    _check_app(args, agent_required=args.get("scope") == "snsapi_privateinfo")
    return _login_request(args)


def _check_app(args, *, agent_required: bool) -> None:
    config = current_app.config
    if args.get("appid") != config["WECOM_CORP_ID"]:
        raise Refused(_("appid “%(given)s” is not this sandbox's corp ID (%(corp)s).",
                        given=args.get("appid", ""), corp=config["WECOM_CORP_ID"]))
    agent = args.get("agentid")
    if (agent or agent_required) and agent != str(config["WECOM_AGENT_ID"]):
        raise Refused(_("agentid “%(given)s” is not this sandbox's app (%(agent)s).",
                        given=agent or "", agent=config["WECOM_AGENT_ID"]))


def _login_request(args) -> LoginRequest:
    uri, state = args.get("redirect_uri", ""), args.get("state", "")
    if not uri:
        raise Refused(_("redirect_uri is missing."))
    if not _site_url(uri):
        raise Refused(_("redirect_uri “%(uri)s” is not on this dashboard's domain (%(host)s): WeCom "
                        "sends codes only to the app's trusted domain.", uri=uri, host=_site()[1]))
    if len(state.encode()) > STATE_BYTES:
        raise Refused(_("state is longer than %(n)s bytes.", n=STATE_BYTES))
    return LoginRequest(uri, state)


def _site() -> tuple[str, str]:
    """DASHBOARD_URL's scheme and host (with its port): the app's trusted domain."""
    parts = urlsplit(current_app.config["DASHBOARD_URL"])
    return parts.scheme, parts.netloc.lower()


def _site_url(url: str) -> bool:
    """url is an absolute http(s) link to this dashboard's host."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == _site()[1]


def redirect_back(login: LoginRequest, userid: str) -> str:
    """redirect_uri with a new code for the employee and the state, as WeCom sends the browser
    back (the caller commits)."""
    parts = urlsplit(login.redirect_uri)
    answer = urlencode({"code": issue_code(userid), "state": login.state})
    return urlunsplit(parts._replace(query=f"{parts.query}&{answer}" if parts.query else answer))


def issue_code(userid: str) -> str:
    """A fresh one-time code for the employee; codes older than an hour are deleted."""
    now = utcnow()
    db.session.execute(db.delete(SandboxAuthCode).where(SandboxAuthCode.created_at < now - KEEP_CODES))
    code = secrets.token_urlsafe(32)
    db.session.add(SandboxAuthCode(code=code, userid=userid, created_at=now))
    return code


def getuserinfo(query, body) -> dict:
    """auth/getuserinfo: the member a code stands for, once and within its 5 minutes; taken by
    one UPDATE so two calls with the same code cannot both succeed."""
    code = query.get("code")
    if not code:
        raise Refusal(41008, "missing code")
    now = utcnow()
    taken = db.session.execute(db.update(SandboxAuthCode).where(
        SandboxAuthCode.code == code, SandboxAuthCode.used_at.is_(None),
        SandboxAuthCode.created_at > now - CODE_LIFE).values(used_at=now))
    if taken.rowcount != 1:
        raise Refusal(40029, "invalid code")
    userid = db.session.scalar(db.select(SandboxAuthCode.userid).filter_by(code=code))
    return ok(userid=userid, user_ticket="", expires_in=USER_TICKET_LIFE)


def site_target(url: str | None) -> str | None:
    """The path (with query and fragment) of a link to this dashboard, absolute on its host or
    relative; None for any other link."""
    if not url:
        return None
    parts = urlsplit(url)
    if (parts.scheme or parts.netloc) and not _site_url(url):
        return None
    return safe_next(urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)))


def sign_in_url(target: str) -> str:
    """Where an inbox link to target goes: the dashboard's WeCom sign-in, landing on target. A link
    that is that sign-in already (a card's report link) is followed as it is."""
    login = request.script_root + WECOM_LOGIN
    if urlsplit(target).path == login:
        return target
    return f"{login}?{urlencode({'next': target})}"


def open_links(card: dict, userid: str) -> dict:
    """The card with its links to this dashboard opening as the employee (changes ``card``)."""
    for link in _link_objects(card):
        if isinstance(link.get("url"), str) and site_target(link["url"]):
            link["url"] = opening_url(userid, link["url"])
    return card


def opening_url(userid: str, url: str) -> str:
    """The sandbox's link that opens url as the employee, absolute (the inbox opens only http(s))."""
    scheme, host = _site()
    return f"{scheme}://{host}{url_for('sandbox.open_link', userid=userid, url=url)}"


def _link_objects(card: dict) -> list[dict]:
    """The card's objects with a page-opening url, as WeCom's client opens them (the sandbox plays
    WeCom: it reads cards as WeCom does, not through the product's sender)."""
    found = [card.get(name) for name in LINK_FIELDS]
    for name in LINK_LISTS:
        items = card.get(name)
        found += items if isinstance(items, list) else []
    return [item for item in found if isinstance(item, dict)]


def qr_cells(seed: str) -> list[tuple[int, int]]:
    """The dark cells (x, y) of a decorative QR code: finder squares in three corners, the rest
    drawn from seed, so one request always shows the same picture."""
    bits = int.from_bytes(hashlib.shake_256(seed.encode()).digest(QR_SIZE * QR_SIZE // 8 + 1), "big")
    cells = []
    for y in range(QR_SIZE):
        for x in range(QR_SIZE):
            finder = _finder(x, y)
            dark = finder if finder is not None else bool(bits >> (y * QR_SIZE + x) & 1)
            if dark:
                cells.append((x, y))
    return cells


def _finder(x: int, y: int) -> bool | None:
    """Dark or light inside a finder square (with its light margin), None outside them."""
    for left, top in ((0, 0), (QR_SIZE - 7, 0), (0, QR_SIZE - 7)):
        dx, dy = x - left, y - top
        if -1 <= dx <= 7 and -1 <= dy <= 7:
            if not (0 <= dx <= 6 and 0 <= dy <= 6):
                return False
            return max(abs(dx - 3), abs(dy - 3)) != 2
    return None
