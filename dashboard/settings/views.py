"""Admin diagnostics of the callback, and the after-click and close-poll pages of cards and campaigns."""
import json
from dataclasses import asdict

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import role_required
from ..callback import after_click, codes, polls
from ..callback.forms import AfterClickForm, ClosePollForm
from ..campaigns import queries as campaign_queries
from ..directory import service as directory_service
from ..directory import snapshot as directory_snapshot
from ..extensions import db
from ..models import Card
from . import diagnostics, live_test
from .forms import SelfTestForm, TestCardForm

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/")
@role_required("admin")
def index():
    steps = live_test.checklist(session.get(live_test.SESSION_KEY))
    return render_template("settings/index.html", form=SelfTestForm(),
                           self_test=session.pop("self_test", None), live_form=TestCardForm(),
                           live_steps=steps, live_done=live_test.done(steps),
                           directory_status=directory_service.status(),
                           changes=directory_snapshot.recent_changes(), **diagnostics.overview())


@bp.route("/self-test", methods=["POST"])
@role_required("admin")
def self_test():
    if SelfTestForm().validate_on_submit():
        session["self_test"] = diagnostics.self_test()
    return redirect(url_for(".index"))


@bp.route("/self-test/card", methods=["POST"])
@role_required("admin")
def send_test_card():
    """Send the live self-test's card to the admin's own WeCom userid (set on the account page)."""
    if TestCardForm().validate_on_submit():
        if userid := current_user.wecom_userid:
            session[live_test.SESSION_KEY] = live_test.send(userid, actor=current_user.username)
        else:
            flash(_("Set your WeCom userid on your account page first: the test card goes to you."), "warning")
    return redirect(url_for(".index", _anchor="live-test"))


@bp.route("/self-test/card")
@role_required("admin")
def test_card_status():
    """The live self-test's checklist as it stands, for settings-live-test.js."""
    steps = live_test.checklist(session.get(live_test.SESSION_KEY))
    return {"done": live_test.done(steps), "steps": [asdict(step) for step in steps],
            "html": render_template("settings/_live_test_steps.html", steps=steps)}


@bp.route("/cards/<int:card_id>/after-click", methods=["GET", "POST"])
@role_required("staff")
def after_click_page(card_id):
    version = db.get_or_404(Card, card_id).latest or abort(404)
    form = AfterClickForm.for_version(version)
    if form.validate_on_submit():
        after_click.set_after_click(version, form.settings)
        db.session.commit()
        flash(_("After-click settings of version %(n)s saved.", n=version.number), "success")
        return redirect(url_for(".after_click_page", card_id=card_id))
    return render_template("settings/after_click.html", card=version.card, version=version,
                           after_click_form=form, example=after_click.example(version))


@bp.route("/campaigns/<int:campaign_id>/close-poll")
@role_required("staff")
def poll(campaign_id):
    campaign = campaign_queries.campaign_for(current_user, campaign_id)
    closed_card = json.dumps(polls.closed_card(campaign), ensure_ascii=False, indent=2)
    return render_template("settings/close_poll.html", campaign=campaign, close_form=ClosePollForm(),
                           codes=codes.expiring_codes(campaign), closed_card=closed_card,
                           last=polls.last_closing(campaign))


@bp.route("/campaigns/<int:campaign_id>/close-poll", methods=["POST"])
@role_required("staff")
def close_poll(campaign_id):
    campaign = campaign_queries.campaign_for(current_user, campaign_id, write=True)
    if not ClosePollForm().validate_on_submit():
        abort(400)
    try:
        polls.queue_close_poll(campaign, current_user)
        flash(_("Closing the poll: every recipient's card will show the result and no longer take votes."),
              "success")
    except polls.PollError as exc:
        flash(str(exc), "warning")
    return redirect(url_for(".poll", campaign_id=campaign_id))
