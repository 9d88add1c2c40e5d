"""The sandbox's routes: WeCom's API (public, token-checked like WeCom), its sign-in pages (public,
as WeCom's are), inboxes and controls."""
import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import public, role_required
from ..auth.decorators import ANY_USER
from ..extensions import csrf, db
from ..models import SandboxEmployee, SandboxInboxCard
from . import api, callbacks, chat, faults, identity, inbox, media, queries
from .directory import seed_directory
from .forms import FaultsForm, ScanAsForm

log = logging.getLogger(__name__)

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


@bp.route("/cgi-bin/<path:path>", methods=["GET", "POST"])
@public
@csrf.exempt
def cgi(path):
    """WeCom's server API: the app's client reaches it over HTTP at WECOM_API_BASE."""
    answer = api.handle(request.method, path, request.args, request.get_data())
    if answer is None:
        abort(404)
    return answer


@bp.route("/media/<token>.<any(png, jpg):ext>")
@public
def media_file(token, ext):
    """A picture the app uploaded (media/uploadimg), public as WeCom's CDN is: only ever an image,
    with its own type, never sniffed as anything else, and never changing (a new upload, a new URL)."""
    image = media.stored(token, ext)
    if image is None:
        abort(404)
    return image.data, {"Content-Type": image.content_type, "X-Content-Type-Options": "nosniff",
                        "Cache-Control": "public, max-age=31536000, immutable",
                        "Content-Disposition": "inline"}


@bp.route("/sso/wwlogin/sso/login", methods=["GET", "POST"])
@public
def sso_login():
    """WeCom's QR-code login for browsers (WECOM_SSO_BASE): the sandbox's employees scan it."""
    return _sign_in(identity.check_sso, in_client=False)


@bp.route("/oauth/connect/oauth2/authorize", methods=["GET", "POST"])
@public
def oauth_authorize():
    """WeCom's silent sign-in inside its client (WECOM_OAUTH_BASE): a real client knows its member;
    the sandbox knows it when an inbox link was opened, and asks otherwise."""
    return _sign_in(identity.check_oauth, in_client=True)


def _sign_in(check, *, in_client: bool):
    """Back to the app with a code for the employee remembered by an inbox link or chosen here."""
    remembered = session.pop(identity.OPEN_AS, None)  # good for one sign-in request, even a refused one
    try:
        login = check(request.args)
    except identity.Refused as refused:
        return render_template("sandbox/login_refused.html", reason=str(refused)), 400
    form = ScanAsForm()
    if form.validate_on_submit():
        userid = form.userid.data
    else:
        userid = remembered if request.method == "GET" else None
    if not userid:
        return render_template("sandbox/login.html", form=form, in_client=in_client, people=queries.people(),
                               qr_cells=identity.qr_cells(login.state + login.redirect_uri),
                               qr_size=identity.QR_SIZE)
    employee = db.session.get(SandboxEmployee, userid)
    if employee is None:
        return render_template("sandbox/login_refused.html", reason=_(
            "No member “%(userid)s” in the sandbox directory.", userid=userid)), 400
    location = identity.redirect_back(login, employee.userid)
    db.session.commit()
    log.info("sandbox: sign-in code issued for %s", employee.userid)
    return redirect(location)


@bp.route("/")
@role_required(*ANY_USER)
def index():
    people = queries.people()
    userid = request.args.get("user")
    current = next((p for p in people if p["userid"] == userid), None if userid else people[0] if people else None)
    if userid and current is None:  # never another member's inbox in its place
        return render_template("sandbox/unknown_user.html", people=people, userid=userid), 404
    return render_template("sandbox/inbox.html", people=people, current=current, text_max=chat.TEXT_MAX)


@bp.route("/inbox/<userid>/feed")
@role_required(*ANY_USER)
def feed(userid):
    return queries.feed(userid)


@bp.route("/inbox/<userid>/open")
@role_required(*ANY_USER)
def open_link(userid):
    """A card's link to this dashboard, opened as in the employee's WeCom client: through the
    dashboard's WeCom sign-in, which the sandbox's login pages answer for this employee unasked."""
    employee = db.get_or_404(SandboxEmployee, userid)
    target = identity.site_target(request.args.get("url"))
    if target is None:
        return render_template("sandbox/login_refused.html", reason=_(
            "This link does not lead to this dashboard: only its own pages open as an employee.")), 400
    session[identity.OPEN_AS] = employee.userid
    log.info("sandbox: %s opens a link as %s", current_user.username, employee.userid)
    return redirect(identity.sign_in_url(target))


@bp.route("/inbox/<userid>/cards/<int:card_id>/act", methods=["POST"])
@role_required(*ANY_USER)
def act(userid, card_id):
    row = db.get_or_404(SandboxInboxCard, card_id)
    if row.userid != userid:
        abort(404)
    try:
        callback = inbox.act(row, request.get_json(silent=True))
    except inbox.InboxError as exc:
        return {"error": str(exc)}, 409
    db.session.commit()
    callbacks.enqueue(callback.id)
    log.info("sandbox: %s acting as %s sent %s %s", current_user.username, userid,
             callback.event, callback.event_key)
    return {"callback": callback.id, "status": callback.status}, 202


@bp.route("/inbox/<userid>/messages", methods=["POST"])
@role_required(*ANY_USER)
def say(userid):
    """The employee writes to the app, sends a place or a picture, taps a menu button or opens the
    app: posted to the callback URL from the queue, like a card click."""
    employee = db.get_or_404(SandboxEmployee, userid)
    try:
        callback = chat.say(employee.userid, request.get_json(silent=True))
    except inbox.InboxError as exc:
        return {"error": str(exc)}, 409
    db.session.commit()
    callbacks.enqueue(callback.id)
    log.info("sandbox: %s acting as %s sent %s", current_user.username, userid, callback.event)
    return {"callback": callback.id, "status": callback.status, "message": queries.own_message(callback)}, 202


@bp.route("/control", methods=["GET", "POST"])
@role_required(*ANY_USER)
def control():
    form = FaultsForm(obj=faults.settings())
    if form.validate_on_submit():
        faults.update(**form.values())
        db.session.commit()
        log.info("sandbox faults set by %s: %s", current_user.username, form.values())
        flash(_("Faults saved. They apply to the next API calls and callbacks."), "success")
        return redirect(url_for(".control"))
    return render_template("sandbox/control.html", form=form, **queries.control())


@bp.route("/control/expire-tokens", methods=["POST"])
@role_required(*ANY_USER)
def expire_tokens():
    expired = faults.expire_tokens()
    db.session.commit()
    log.info("sandbox tokens expired by %s", current_user.username)
    flash(_("%(n)s access token(s) expired. The app's next call gets errcode 42001, "
            "fetches a new token and retries once.", n=expired), "success")
    return redirect(url_for(".control"))


@bp.route("/seed", methods=["POST"])
@role_required(*ANY_USER)
def seed():
    seeded = not queries.directory()["employees"]
    seed_directory()  # its lines are for the CLI (`flask demo seed`); the page says the same in its language
    counts = queries.directory()
    flash(_("Sandbox directory seeded: %(employees)s employees (%(unlicensed)s unlicensed) in "
            "%(departments)s departments, %(tags)s tags. Inboxes: /sandbox/", **counts) if seeded else
          _("Sandbox directory kept: %(employees)s employees (%(unlicensed)s unlicensed) in "
            "%(departments)s departments, %(tags)s tags. Inboxes: /sandbox/", **counts), "success")
    db.session.commit()
    return redirect(url_for(".index"))
