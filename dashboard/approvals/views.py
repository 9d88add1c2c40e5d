from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth import role_required
from ..auth.decorators import ANY_USER
from ..campaigns import queries as campaign_queries
from ..extensions import db
from . import jobs, queries, service
from .forms import DecideForm, ReasonForm

bp = Blueprint("approvals", __name__, url_prefix="/approvals")

DECISION_LABELS = {"approved": _l("approved"), "rejected": _l("rejected"), "withdrawn": _l("withdrawn")}


@bp.app_template_filter("approval_label")
def approval_label(decision: str | None) -> str:
    return str(DECISION_LABELS.get(decision, _l("awaiting approval")))


@bp.route("/")
@role_required(*ANY_USER)
def index():
    user = current_user._get_current_object()
    return render_template("approvals/index.html", waiting=queries.waiting_for(user),
                           mine=queries.mine(user), recent=queries.recent(),
                           approver=service.may_approve(user))


@bp.route("/<int:approval_id>")
@role_required(*ANY_USER)
def show(approval_id):
    approval = queries.approval_for(current_user, approval_id)
    return _page(approval, DecideForm())


@bp.route("/<int:approval_id>/decide", methods=["POST"])
@role_required(*ANY_USER)
def decide(approval_id):
    approval = queries.approval_for(current_user, approval_id)
    form = DecideForm()
    if not form.validate_on_submit():
        return _page(approval, form), 400
    decision = "rejected" if form.reject.data else "approved"
    why = service.decide(approval, current_user._get_current_object(), decision,
                         reason=form.reason.data or "", via="web")
    if why:
        db.session.rollback()
        flash(why, "warning")
        return redirect(url_for(".show", approval_id=approval.id))
    db.session.commit()
    jobs.after_decision(approval)
    flash(_decided(approval), "success")
    return redirect(url_for(".show", approval_id=approval.id))


@bp.route("/<int:approval_id>/reason", methods=["GET", "POST"])
@role_required(*ANY_USER)
def reason(approval_id):
    """After a 驳回 in WeCom: the rejecter says why."""
    approval = queries.approval_for(current_user, approval_id)
    form = ReasonForm(data={"reason": approval.reason})
    if form.validate_on_submit():
        if why := service.give_reason(approval, current_user._get_current_object(), form.reason.data):
            flash(why, "warning")
            return redirect(url_for(".show", approval_id=approval.id))
        db.session.commit()
        jobs.queue(jobs.NOTIFY, approval.campaign_id, "reason", approval.id)
        flash(_("Reason saved: the author reads it on the campaign page."), "success")
        return redirect(url_for(".show", approval_id=approval.id))
    return render_template("approvals/reason.html", approval=approval, form=form), \
        400 if form.is_submitted() else 200


def _decided(approval) -> str:
    """What the decider reads once the decision is made."""
    if approval.decision == "rejected":
        return _("Rejected: the campaign is a draft again, and its author sees your reason.")
    if approval.campaign.send_at:
        return _("Approved: the campaign is scheduled.")
    return _("Approved: the campaign is sending.")


def _page(approval, form):
    campaign = approval.campaign
    user = current_user._get_current_object()
    check = campaign_queries.check(campaign) if approval.decision is None else None
    return render_template("approvals/show.html", approval=approval, campaign=campaign, form=form,
                           why_not=service.refusal(approval, user), check=check,
                           body=queries.first_body(campaign))
