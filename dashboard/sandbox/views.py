"""The sandbox's routes: WeCom's API (public, token-checked like WeCom), inboxes and controls."""
import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import public, role_required
from ..auth.decorators import ANY_USER
from ..extensions import csrf, db
from ..models import SandboxEmployee, SandboxInboxCard
from . import api, callbacks, chat, faults, inbox, queries
from .directory import seed_directory
from .forms import FaultsForm

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
