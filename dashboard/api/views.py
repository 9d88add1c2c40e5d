"""The JSON API for integrators: the same service functions the pages call, behind Bearer tokens.

Field names, statuses and codes are fixed; the human messages follow the request's language
(English unless Accept-Language asks for Chinese, see dashboard/i18n.py).
"""
from flask import Blueprint, current_app, request, url_for
from flask_babel import gettext as _

from ..auth.decorators import public
from ..callback import polls, rollup
from ..campaigns import jobs as campaign_jobs
from ..campaigns import queries as campaign_queries
from ..campaigns import service as campaigns
from ..cards import queries as card_queries
from ..cards import service as cards
from ..directory import service as directory_service
from ..directory import snapshot as directory_snapshot
from ..extensions import db
from ..models import Campaign, Card
from ..reports import queries as report_queries
from ..wecom.cards import CARD_TYPES
from ..wecom.errors import WeComError
from . import adapters, auth, errors, openapi, schemas
from .auth import api_role_required, api_user
from .errors import ApiError, Invalid

bp = Blueprint("api", __name__, url_prefix="/api/v1")
errors.register(bp)
bp.record_once(lambda state: auth.init_app(state.app))

WRITERS = ("staff",)
READERS = ("staff", "manager")
ID = f"int(max={schemas.MAX_ID})"  # larger ids are a 404, not a database overflow
PROGRESS = ("batches_total", "batches_done", "accepted", "invalid", "unlicensed", "failed")


#: Endpoints whose bodies may exceed API_MAX_BODY, and their own limit (a picture's upload).
BODY_LIMITS: dict[str, int] = {}


@bp.before_request
def limit_body():
    """Bodies over API_MAX_BODY (or the endpoint's BODY_LIMITS) are refused before anything reads
    them; a chunked body is read one byte past the limit at most, and schemas.json_body refuses it
    if that byte came."""
    limit = BODY_LIMITS.get(request.endpoint, current_app.config["API_MAX_BODY"])
    request.max_content_length = limit + 1
    if (request.content_length or 0) > limit:
        raise errors.too_large()


@bp.get("/openapi.json")
@public
def openapi_json():
    return openapi.build()


# --- cards -------------------------------------------------------------------------------------


@bp.post("/cards")
@api_role_required(*WRITERS)
def create_card():
    data = schemas.parse("CardCreate")
    card = cards.create_card(data["name"].strip(), schemas.valid_card(data), actor=api_user())
    db.session.commit()
    return card_json(card), 201, {"Location": url_for(".card", card_id=card.id)}


@bp.post("/cards/validate")
@api_role_required(*READERS)
def validate_card():
    data = schemas.parse("CardValidate")
    errors = schemas.card_errors(data["template_card"])
    return {"valid": not errors, "errors": errors,
            "warnings": schemas.card_warnings(data["template_card"])}


@bp.get("/cards")
@api_role_required(*READERS)
def card_list():
    card_type, archived = request.args.get("card_type"), request.args.get("archived", "false")
    if card_type and card_type not in CARD_TYPES:
        raise Invalid([{"path": "card_type", "message": _("must be one of %(values)s",
                                                          values=", ".join(CARD_TYPES))}])
    if archived not in ("true", "false"):
        raise Invalid([{"path": "archived", "message": _("must be %(type)s",
                                                         type=schemas.ARTICLES["boolean"])}])
    query = card_queries.library(request.args.get("q", "")[:120], card_type, archived == "true")
    page = db.paginate(query, page=schemas.query_int("page", 1, 1, 100_000),
                       per_page=schemas.query_int("per_page", 20, 1, 100), error_out=False)
    return {"items": [card_json(card, summary=True) for card in page.items], "total": page.total,
            "page": page.page, "per_page": page.per_page}


@bp.get(f"/cards/<{ID}:card_id>")
@api_role_required(*READERS)
def card(card_id):
    return card_json(_card(card_id), full=True)


@bp.put(f"/cards/<{ID}:card_id>")
@api_role_required(*WRITERS)
def update_card(card_id):
    card = _card(card_id)
    data = schemas.parse("CardUpdate")
    name = data["name"].strip() if "name" in data else card.name
    cards.save_card(card, name, schemas.valid_card(data), actor=api_user())
    db.session.commit()
    return card_json(card)


def _card(card_id: int) -> Card:
    card = db.get_or_404(Card, card_id, description=_("There is no card %(id)s.", id=card_id))
    if card.latest is None:
        raise ApiError(404, _("Card %(id)s has never been saved.", id=card_id))
    return card


def card_json(card: Card, *, summary: bool = False, full: bool = False) -> dict:
    data = {"id": card.id, "version": card.latest.number, "name": card.name,
            "card_type": card.card_type}
    if summary or full:
        problems = schemas.at_card(cards.card_problems(card))
        data.update(archived=card.archived, valid=not problems,
                    updated_at=card.updated_at.isoformat())
    if full:
        data.update(template_card=card.latest.template_card, errors=problems,
                    warnings=schemas.card_warnings(card.latest.template_card),
                    created_at=card.created_at.isoformat())
    return data


# --- campaigns ---------------------------------------------------------------------------------


@bp.post("/campaigns")
@api_role_required(*WRITERS)
def create_campaign():
    data = schemas.parse("CampaignCreate")
    fields = schemas.campaign_fields(data, db.session.get(Card, data["card_id"]))
    campaign = campaigns.create_campaign(**fields, actor=api_user())
    db.session.commit()
    location = url_for(".campaign", campaign_id=campaign.id)
    return {"id": campaign.id, "status": campaign.status}, 201, {"Location": location}


@bp.get(f"/campaigns/<{ID}:campaign_id>")
@api_role_required(*READERS)
def campaign(campaign_id):
    campaign = _campaign(campaign_id)
    progress = campaign_queries.progress(campaign)
    return {
        "id": campaign.id, "name": campaign.name, "status": campaign.status,
        "send_at": campaign.send_at.isoformat() if campaign.send_at else None,
        "progress": {key: progress[key] for key in PROGRESS},
        "batches": [{"task_id": b.task_id, "status": b.status, "msgid": b.msgid,
                     "errcode": b.errcode, "errmsg": b.errmsg} for b in campaign.batches],
    }


@bp.get(f"/campaigns/<{ID}:campaign_id>/check")
@api_role_required(*WRITERS)
def check(campaign_id):
    """What sending would do, as the check page shows it; the directory is read first if needed."""
    result = _act(campaigns.check, _campaign(campaign_id, write=True), result=True)
    return {"id": campaign_id, "recipients": len(result.userids), "everyone": result.everyone,
            "calls": result.calls, "can_send": not result.blockers,
            "notices": [{"level": n.level, "text": n.text} for n in result.notices]}


@bp.post(f"/campaigns/<{ID}:campaign_id>/send")
@api_role_required(*WRITERS)
def send(campaign_id):
    campaign = _act(campaigns.send, _campaign(campaign_id, write=True))
    campaign_jobs.deliver(campaign.id, eta=campaign.send_at)
    return {"id": campaign.id, "status": campaign.status}, 202


@bp.post(f"/campaigns/<{ID}:campaign_id>/cancel")
@api_role_required(*WRITERS)
def cancel(campaign_id):
    campaign = _act(campaigns.cancel, _campaign(campaign_id, write=True))
    return {"id": campaign.id, "status": campaign.status}


@bp.post(f"/campaigns/<{ID}:campaign_id>/recall")
@api_role_required(*WRITERS)
def recall(campaign_id):
    campaign = _campaign(campaign_id, write=True)
    recalled, failed = _act(campaigns.recall, campaign, result=True)
    return {"id": campaign.id, "status": campaign.status, "recalled": recalled, "failed": failed}


@bp.post(f"/campaigns/<{ID}:campaign_id>/close-poll")
@api_role_required(*WRITERS)
def close_poll(campaign_id):
    campaign = _campaign(campaign_id, write=True)
    try:
        polls.queue_close_poll(campaign, api_user())
    except polls.PollError as exc:
        raise ApiError(409, str(exc)) from None
    return {"id": campaign.id, "status": campaign.status, "message": _(
        "Closing the poll: every recipient's card will show the result and stop taking "
        "answers.")}, 202


@bp.get(f"/campaigns/<{ID}:campaign_id>/report")
@api_role_required(*READERS)
def report(campaign_id):
    rollup.catch_up()
    return report_queries.campaign_report(_reportable(campaign_id))


@bp.get(f"/campaigns/<{ID}:campaign_id>/events")
@api_role_required(*READERS)
def events(campaign_id):
    campaign = _reportable(campaign_id)
    page = adapters.events_page(campaign, schemas.query_int("page", 1, 1, 100_000),
                                schemas.query_int("per_page", 50, 1, 100))
    named = campaign.privacy != "aggregate"
    return {"items": [adapters.event_json(event, named) for event in page.items],
            "total": page.total, "page": page.page, "per_page": page.per_page}


@bp.get("/directory")
@api_role_required(*READERS)
def directory():
    return _directory_json(directory_service.status())


@bp.post("/directory/refresh")
@api_role_required(*WRITERS)
def directory_refresh():
    started = directory_service.request_read(actor=api_user().username)
    db.session.commit()
    return {**_directory_json(directory_service.status()), "started": started}, 202


@bp.get("/directory/members")
@api_role_required(*READERS)
def directory_members():
    department = schemas.query_int("department", 0, 1, schemas.MAX_ID) or None
    tag = schemas.query_int("tag", 0, 1, schemas.MAX_ID) or None
    q = request.args.get("q", "")
    if len(q) > 64:
        raise Invalid([{"path": "q", "message": _("must be at most %(max)s characters", max=64)}])
    page = directory_snapshot.members(department=department, tag=tag, q=q,
                                      page=schemas.query_int("page", 1, 1, 100_000),
                                      per_page=schemas.query_int("per_page", 50, 1, 500))
    return {"items": [_member_json(user) for user in page.items], "total": page.total,
            "page": page.page, "per_page": page.per_page}


def _directory_json(status: dict) -> dict:
    """The directory's state as GET /directory answers it (times in ISO 8601, UTC)."""
    times = ("read_at", "error_at", "imported_at", "next_read_at")
    return {key: (value.isoformat() if value else None) if key in times else value
            for key, value in status.items() if key != "version"}


def _member_json(user) -> dict:
    return {"userid": user.userid, "name": user.name, "departments": list(user.departments)}


def _campaign(campaign_id: int, *, write: bool = False) -> Campaign:
    """The campaign, with the pages' rule: staff read and change the campaigns they created
    (admins change any), managers read all."""
    campaign = db.get_or_404(Campaign, campaign_id,
                             description=_("There is no campaign %(id)s.", id=campaign_id))
    if campaign_queries.owner_id(campaign) is not None and not (
            campaign_queries.can_change if write else campaign_queries.can_read)(api_user(), campaign):
        raise ApiError(403, _("Staff read and change the campaigns they created; managers read all."))
    return campaign


def _reportable(campaign_id: int) -> Campaign:
    """As the report pages: no report for test sends, a reminder's is its parent's, and staff
    read the reports of campaigns they created."""
    campaign = _campaign(campaign_id)
    if campaign.is_test:
        raise ApiError(404, _("Campaign %(id)s is a test send; test sends have no report.",
                              id=campaign_id))
    campaign = report_queries.root(campaign)
    if not report_queries.can_read(api_user(), campaign):
        raise ApiError(403, _("Staff read the reports of the campaigns they created; managers "
                              "all."))
    return campaign


def _act(action, campaign: Campaign, *, result: bool = False):
    """Run a campaigns.service action and commit; its refusal is a 409, WeCom's failure a 502."""
    try:
        outcome = action(campaign, actor=api_user())
    except campaigns.CampaignError as exc:
        db.session.rollback()
        raise ApiError(409, str(exc)) from None
    except WeComError as exc:
        db.session.rollback()
        raise ApiError(502, _("WeCom refused or did not answer: %(error)s", error=exc)) from None
    db.session.commit()
    return outcome if result else campaign
