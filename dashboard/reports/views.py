from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import role_required
from ..callback import rollup
from ..directory import snapshot
from ..directory.views import first_need
from ..campaigns import jobs as campaign_jobs
from ..campaigns.service import CampaignError
from ..extensions import db
from ..models import Campaign
from . import activity, exports, people, queries, report, service
from .forms import AnswerFilterForm, AuditFilterForm, RemindForm
from .labels import card_labels

bp = Blueprint("reports", __name__, url_prefix="/reports")

READERS = ("manager", "staff")


def readable_campaign(view):
    """Load the campaign; test sends have no report, a reminder's report is its parent's, and
    staff read only the reports of campaigns they created."""

    @wraps(view)
    def wrapped(campaign_id, **kwargs):
        rollup.catch_up()  # the figures count every event stored so far
        campaign = db.get_or_404(Campaign, campaign_id)
        if campaign.is_test:
            abort(404)
        if queries.is_reminder(campaign):
            args = {**request.args, **kwargs, "campaign_id": campaign.parent_id}
            return redirect(url_for(request.endpoint, **args), code=307)
        if not queries.can_read(current_user, campaign):
            abort(403)
        return view(campaign, **kwargs)

    return wrapped


@bp.app_template_filter("duration")
def duration(seconds) -> str:
    """Seconds in words: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return _("%(seconds)s s", seconds=seconds)
    if seconds < 3600:
        return _("%(minutes)s min", minutes=seconds // 60)
    if seconds < 86400:
        hours, minutes = seconds // 3600, seconds % 3600 // 60
        return (_("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes) if minutes
                else _("%(hours)s h", hours=hours))
    days, hours = seconds // 86400, seconds % 86400 // 3600
    return _("%(days)s d %(hours)s h", days=days, hours=hours) if hours else _("%(days)s d", days=days)


@bp.app_template_filter("epoch_in")
def epoch_in(seconds: int, zone: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A WeCom CreateTime (Unix seconds) in a campaign's time zone."""
    return datetime.fromtimestamp(seconds, ZoneInfo(zone)).strftime(fmt)


@bp.route("/")
@role_required(*READERS)
def index():
    page = queries.report_list(current_user, request.args.get("page", 1, type=int))
    counts = queries.ledger_counts([c.id for c in page.items])
    return render_template("reports/index.html", page=page, counts=counts)


@bp.route("/<int:campaign_id>")
@role_required(*READERS)
@readable_campaign
def show(campaign):
    return render_template("reports/show.html", report=report.build(campaign),
                           live=queries.is_live(campaign), remind_form=RemindForm(),
                           no_reminder=service.why_no_reminder(campaign))


@bp.route("/<int:campaign_id>/live")
@role_required(*READERS)
@readable_campaign
def live(campaign):
    """The figures, and the live part of the page rendered again, for reports-live.js."""
    built = report.build(campaign)
    return {"report": built.api, "median_seconds": built.median_seconds,
            "live": queries.is_live(campaign), "status": campaign.status,
            "html": render_template("reports/_live.html", report=built)}


@bp.route("/<int:campaign_id>/answers")
@role_required(*READERS)
@readable_campaign
def answers(campaign):
    ids = queries.family_ids(campaign)
    if campaign.privacy == "aggregate":
        return render_template("reports/answers_aggregate.html", campaign=campaign,
                               report=report.build(campaign),
                               waiting=people.non_responder_count(campaign, ids))
    labels = card_labels(campaign.card_version.template_card)
    form = AnswerFilterForm(request.args)
    form.set_choices(labels, {}, [(d.id, d.name, depth) for d, depth in snapshot.department_tree()])
    table = people.answer_table(campaign, ids, form.filters())
    return render_template("reports/answers.html", campaign=campaign, form=form, table=table,
                           labels=labels, names=people.department_names(),
                           args={k: v for k, v in request.args.items() if k != "page"})


@bp.route("/<int:campaign_id>/people/<userid>")
@role_required(*READERS)
@readable_campaign
def person(campaign, userid):
    if campaign.privacy == "aggregate":
        abort(404)
    events = people.history(queries.family_ids(campaign), userid)
    if not events:
        abort(404)
    return render_template("reports/person.html", campaign=campaign, userid=userid, events=events,
                           person=people.person(userid), names=people.department_names(),
                           labels=card_labels(campaign.card_version.template_card))


@bp.route("/<int:campaign_id>/waiting")
@role_required(*READERS)
@readable_campaign
def waiting(campaign):
    table = people.non_responders(campaign, queries.family_ids(campaign),
                                  request.args.get("page", 1, type=int))
    return render_template("reports/waiting.html", campaign=campaign, table=table,
                           names=people.department_names(), remind_form=RemindForm(),
                           no_reminder=service.why_no_reminder(campaign))


@bp.route("/<int:campaign_id>/remind", methods=["POST"])
@role_required("staff")
@readable_campaign
def remind(campaign):
    form = RemindForm()
    if form.validate_on_submit():
        try:
            reminder = service.remind_non_responders(campaign, current_user)
        except CampaignError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            campaign_jobs.deliver(reminder.id)
            flash(_("Reminder to %(n)s people who have not answered yet sent for approval: it goes out "
                    "once an approver approves it.", n=len(reminder.recipients["users"]))
                  if reminder.status == "awaiting_approval" else
                  _("Reminder sending to %(n)s people who have not answered yet.",
                    n=len(reminder.recipients["users"])), "success")
    return redirect(url_for(".show", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/departments")
@role_required(*READERS)
@readable_campaign
def departments(campaign):
    if wait := first_need():
        return wait
    ids = queries.family_ids(campaign)
    return render_template("reports/departments.html", campaign=campaign,
                           known=people.directory_known(), tree=snapshot.department_tree(),
                           breakdown=people.by_department(campaign, ids),
                           labels=card_labels(campaign.card_version.template_card))


@bp.route("/<int:campaign_id>/<any(ledger, events, tallies):kind>.csv")
@role_required(*READERS)
@readable_campaign
def export(campaign, kind):
    """The CSV in the page's language; ``?header=en``: English column names and words (for scripts)."""
    english = request.args.get("header") == "en"
    return Response(stream_with_context(exports.export(campaign, kind, english=english)), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="campaign-{campaign.id}-{kind}.csv"'})


@bp.route("/audit")
@role_required()
def audit_log():
    form = AuditFilterForm(request.args)
    form.set_choices(activity.audit_actions())
    criteria = form.criteria(current_app.config["TIMEZONE"])
    return render_template("reports/audit.html", form=form, page=activity.audit_page(**criteria),
                           describe=activity.describe_action, object_type=activity.object_type,
                           args={k: v for k, v in request.args.items() if k != "page"})
