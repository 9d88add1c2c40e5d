from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from ..auth import role_required
from ..auth import service as auth_service
from ..callback.polls import close_poll_panel
from ..extensions import db
from ..i18n import in_zone
from ..cards import service as card_service
from ..models import Audience, Campaign, Card
from ..wecom.errors import WeComError
from ..directory import search, snapshot
from ..directory.views import first_need
from . import jobs, queries, service
from .forms import CampaignForm, RecipientsForm, TestSendForm
from .recipients import SHOWN_PROBLEMS, Parsed, describe, expand, merge, shortlist, to_values

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

STAFF = ("staff",)
READERS = ("staff", "manager")
# action -> (service function, the message once done, queue delivery afterwards?)
ACTIONS = {
    "pause": (service.pause, _l("Campaign paused."), False),
    "resume": (service.resume, _l("Campaign resumed."), True),
    "cancel": (service.cancel, _l("Campaign cancelled."), False),
    "recall": (service.recall, _l("Campaign recalled."), False),
    "resend": (service.resend_failed, _l("Campaign sent again to the failed recipients."), True),
}


bp.add_app_template_filter(describe, "describe_recipients")
bp.add_app_template_filter(queries.label, "status_label")
bp.add_app_template_filter(queries.history_label, "history_label")
bp.add_app_template_filter(queries.stored_text, "stored_text")


@bp.route("/")
@role_required(*READERS)
def index():
    page = queries.campaign_page(request.args.get("page", 1, type=int))
    return render_template("campaigns/index.html", page=page, refreshed_at=snapshot.refreshed_at())


@bp.route("/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new():
    """A new campaign; ?card=<card id> (the card's "Send this card") chooses that card's latest version."""
    form = CampaignForm()
    if request.method == "GET" and (card_id := request.args.get("card", type=int)):
        card = db.get_or_404(Card, card_id)
        if card.archived or not card_service.usable_in_campaign(card.latest):
            flash(_("“%(name)s” can't be sent yet: fix its problems in the designer (or restore it, "
                    "if archived) first.", name=card.name), "warning")
        else:
            form.card_version.data = card.latest.id
            form.name.data = form.name.data or card.name
    if form.validate_on_submit():
        campaign = service.create_campaign(**form.campaign_fields())
        db.session.commit()
        flash(_("Campaign “%(name)s” created. Now choose its recipients.", name=campaign.name), "success")
        return redirect(url_for(".recipients", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=None)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def edit(campaign_id):
    campaign = _draft_or_redirect(campaign_id, awaiting=True)
    form = CampaignForm.for_campaign(campaign)  # the campaign's values, or what was posted
    if form.validate_on_submit():
        service.update_campaign(campaign, **form.campaign_fields())
        db.session.commit()
        if again := _asked_again(campaign):
            return again
        flash(_("Campaign saved."), "success")
        return redirect(url_for(".recipients", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign)


@bp.route("/<int:campaign_id>/recipients", methods=["GET", "POST"])
@role_required(*STAFF)
def recipients(campaign_id):
    campaign = _draft_or_redirect(campaign_id, awaiting=True)
    if request.method == "GET" and (wait := first_need()):
        return wait
    form = RecipientsForm.for_spec(campaign.recipients)  # the saved selection, or what was posted
    if form.validate_on_submit():
        spec = form.spec()
        service.update_campaign(campaign, recipients=spec)
        if form.save_as.data:
            service.save_audience(form.save_as.data.strip(), spec)
        db.session.commit()
        if form.left_out:
            flash(ngettext("%(num)s line left out: %(list)s", "%(num)s lines left out: %(list)s",
                           len(form.left_out), list=" ".join(shortlist(form.left_out))), "warning")
        return _asked_again(campaign) or redirect(url_for(".check", campaign_id=campaign.id))
    form.keep_imported()
    return render_template("campaigns/recipients.html", form=form, campaign=campaign,
                           refreshed_at=snapshot.refreshed_at())


@bp.route("/recipients/count", methods=["POST"])
@role_required(*STAFF)
def recipients_count():
    """How many people the recipients page's selection reaches, by the check page's expansion."""
    try:
        spec = RecipientsForm().spec()
    except ValueError:
        abort(400)
    count = len(expand(spec, snapshot.load()))
    return {"count": count, "text": ngettext("%(num)s person", "%(num)s people", count)}


@bp.route("/recipients/parse", methods=["POST"])
@role_required(*STAFF)
def recipients_parse():
    """A pasted list or a CSV read at once, nothing saved: the people kept, the lines left out,
    and the names several members have, to pick from."""
    return _import_answer(RecipientsForm().read_import())


@bp.route("/<int:campaign_id>/check")
@role_required(*STAFF)
def check(campaign_id):
    campaign = _draft_or_redirect(campaign_id)
    if queries.needs_directory(campaign.recipients) and (wait := first_need()):
        return wait
    return _check_page(campaign, TestSendForm(data={"userids": current_user.wecom_userid or ""}))


@bp.route("/<int:campaign_id>/test", methods=["POST"])
@role_required(*STAFF)
def test_send(campaign_id):
    campaign = queries.campaign_for(current_user, campaign_id, write=True)
    form = TestSendForm()
    if not form.validate_on_submit():  # the check page again, the problem at the field
        return _check_page(_draft_or_redirect(campaign_id), form)
    if mine := form.mine():
        auth_service.set_wecom_userid(current_user._get_current_object(), mine)
        db.session.commit()
    if test := _run(service.test_send, campaign, form.recipients()):
        jobs.deliver(test.id)
        flash(_("Test send queued; its progress is listed under “Test sends”."), "success")
    return redirect(url_for(".check", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/leave-out", methods=["POST"])
@role_required(*STAFF)
def leave_out(campaign_id):
    """Exclude the people WeCom refused at earlier sends, then check again."""
    campaign = _draft_or_redirect(campaign_id)
    refused = [r.userid for r in queries.refused(queries.recipients(campaign))]
    if refused:
        spec = merge(campaign.recipients, {"exclude": {"users": refused}})
        service.update_campaign(campaign, recipients=spec)
        db.session.commit()
        flash(ngettext("%(num)s person left out.", "%(num)s people left out.", len(refused)), "success")
    return redirect(url_for(".check", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/send", methods=["POST"])
@role_required(*STAFF)
def send(campaign_id):
    campaign = queries.campaign_for(current_user, campaign_id, write=True)
    if not _run(service.send, campaign):
        return redirect(url_for(".check", campaign_id=campaign.id))
    if campaign.status == "awaiting_approval":
        flash(_("Sent for approval: it goes out once an approver approves it."), "success")
        return redirect(url_for(".show", campaign_id=campaign.id))
    jobs.deliver(campaign.id, eta=campaign.send_at)
    if campaign.send_at:
        flash(_("Campaign scheduled for %(time)s.", time=in_zone(campaign.send_at, campaign.timezone)),
              "success")
    else:
        flash(_("Campaign sending."), "success")
    return redirect(url_for(".show", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/<any(pause, resume, cancel, recall, resend):action>", methods=["POST"])
@role_required(*STAFF)
def act(campaign_id, action):
    campaign = queries.campaign_for(current_user, campaign_id, write=True)
    function, message, queue = ACTIONS[action]
    if _run(function, campaign):
        if queue:
            jobs.deliver(campaign.id)
        flash(str(message), "success")
    return redirect(url_for(".show", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>")
@role_required(*READERS)
def show(campaign_id):
    campaign = queries.campaign_for(current_user, campaign_id)
    state = request.args.get("state") or None
    ledger = queries.ledger_page(campaign, state, request.args.get("page", 1, type=int))
    return render_template(
        "campaigns/show.html", campaign=campaign, progress=queries.progress(campaign),
        summary=queries.summary(campaign),
        ledger=ledger, state=state, recall=queries.recall_state(campaign),
        resendable=len(queries.retryable_failures(campaign)), tests=queries.test_sends(campaign),
        history=queries.history(campaign), batch_sizes=queries.batch_sizes(campaign),
        approvals=queries.approvals(campaign),
        **close_poll_panel(campaign))


@bp.route("/<int:campaign_id>/progress")
@role_required(*READERS)
def progress(campaign_id):
    return queries.progress(queries.campaign_for(current_user, campaign_id))


@bp.route("/directory/refresh", methods=["POST"])
@role_required(*STAFF)
def refresh_directory():
    if result := _run(service.refresh_directory):
        flash(_("Directory read: %(people)s people, %(department_count)s departments, %(tag_count)s tags.",
                people=result.users, department_count=result.departments, tag_count=result.tags), "success")
    campaign_id = request.args.get("campaign_id", type=int)
    return redirect(url_for(".recipients", campaign_id=campaign_id) if campaign_id else url_for(".index"))


@bp.route("/audiences")
@role_required(*STAFF)
def audiences():
    rows = db.session.scalars(db.select(Audience).order_by(Audience.name)).all()
    return render_template("campaigns/audiences.html", audiences=rows)


@bp.route("/audiences/<int:audience_id>/delete", methods=["POST"])
@role_required(*STAFF)
def audience_delete(audience_id):
    audience = db.get_or_404(Audience, audience_id)
    service.delete_audience(audience)
    db.session.commit()
    flash(_("Audience “%(name)s” deleted.", name=audience.name), "success")
    return redirect(url_for(".audiences"))


def _run(action, *args):
    """Run a service action and commit: its result (True for None); on a refusal, roll back,
    flash why and return None."""
    try:
        result = action(*args)
    except (service.CampaignError, WeComError) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return None
    db.session.commit()
    return True if result is None else result


def _import_answer(parsed: Parsed) -> dict:
    return {"kept": search.items(to_values({"users": parsed.userids})),
            "problems": shortlist(parsed.errors),
            "ambiguous": [{"line": a.line, "name": a.name,
                           "choices": search.items(to_values({"users": a.userids}))}
                          for a in parsed.ambiguous[:SHOWN_PROBLEMS]]}


def _check_page(campaign: Campaign, test_form: TestSendForm) -> str:
    result = queries.check(campaign)
    service.record_check(campaign, result.userids)  # the send goes to exactly these people
    db.session.commit()
    return render_template("campaigns/check.html", campaign=campaign, test_form=test_form,
                           result=result, tests=queries.test_sends(campaign),
                           refused=queries.refused(result.userids))


def _asked_again(campaign: Campaign):
    """After an edit of a campaign that awaited approval: its page, saying it was asked again."""
    if campaign.status != "awaiting_approval":
        return None
    flash(_("Saved: the campaign was sent for approval again, as it is now."), "info")
    return redirect(url_for(".show", campaign_id=campaign.id))


def _draft_or_redirect(campaign_id: int, *, awaiting: bool = False) -> Campaign:
    """Only drafts (and, with ``awaiting``, campaigns awaiting approval: a change asks again) are
    edited and checked, by their owner; anything else goes to its campaign page."""
    campaign = queries.campaign_for(current_user, campaign_id, write=True)
    editable = ("draft", "awaiting_approval") if awaiting else ("draft",)
    if campaign.status not in editable or campaign.is_test:
        flash(_("This campaign is %(label)s; it can no longer be changed.",
                label=queries.label(campaign.status)), "info")
        abort(redirect(url_for(".show", campaign_id=campaign.id)))
    return campaign
