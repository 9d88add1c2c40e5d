"""The reply rules in the JSON API (issue 26, point 7): the editor's checks
(conversations.validation) and its service, so a rule saved here answers the next message too."""
from flask import request, url_for
from flask_babel import gettext as _

from ..conversations import service
from ..conversations.validation import rule_fields, rule_problems
from ..extensions import db
from ..models import ReplyRule
from ..models.conversation import RULE_KINDS
from . import schemas
from .auth import api_role_required, api_user
from .errors import Invalid
from .views import ID, READERS, WRITERS, bp

ANSWERED = ("id", "name", "kind", "priority", "enabled", "reply_mode", "triggers", "replies")


@bp.get("/reply-rules")
@api_role_required(*READERS)
def reply_rules():
    kind = request.args.get("kind")
    if kind is not None and kind not in RULE_KINDS:
        raise Invalid([{"path": "kind", "message": _("must be one of %(values)s",
                                                     values=", ".join(RULE_KINDS))}])
    query = db.select(ReplyRule).order_by(ReplyRule.kind != "keyword", ReplyRule.priority, ReplyRule.id)
    if kind:
        query = query.filter_by(kind=kind)
    page = db.paginate(query, page=schemas.query_int("page", 1, 1, 100_000),
                       per_page=schemas.query_int("per_page", 50, 1, 200), error_out=False)
    return {"items": [rule_json(rule) for rule in page.items], "total": page.total, "page": page.page,
            "per_page": page.per_page}


@bp.post("/reply-rules")
@api_role_required(*WRITERS)
def create_reply_rule():
    body = schemas.json_body()
    if problems := rule_problems(body):
        raise Invalid(problems)
    rule = service.save_rule(None, rule_fields(body), actor=api_user())
    db.session.commit()
    return rule_json(rule), 201, {"Location": url_for(".reply_rule", rule_id=rule.id)}


@bp.get(f"/reply-rules/<{ID}:rule_id>")
@api_role_required(*READERS)
def reply_rule(rule_id):
    return rule_json(_rule(rule_id))


@bp.put(f"/reply-rules/<{ID}:rule_id>")
@api_role_required(*WRITERS)
def update_reply_rule(rule_id):
    """Fields left out keep their values, so a GET's answer, changed, can be PUT back."""
    rule = _rule(rule_id)
    data = schemas.json_body()
    body = {**rule_json(rule), **data} if isinstance(data, dict) else data
    if problems := rule_problems(body, rule_id=rule.id):
        raise Invalid(problems)
    service.save_rule(rule, rule_fields(body), actor=api_user())
    db.session.commit()
    return rule_json(rule)


@bp.delete(f"/reply-rules/<{ID}:rule_id>")
@api_role_required(*WRITERS)
def delete_reply_rule(rule_id):
    service.delete_rule(_rule(rule_id), actor=api_user())
    db.session.commit()
    return {"id": rule_id, "deleted": True}


def rule_json(rule: ReplyRule) -> dict:
    return {key: getattr(rule, key) for key in ANSWERED}


def _rule(rule_id: int) -> ReplyRule:
    return db.get_or_404(ReplyRule, rule_id, description=_("There is no reply rule %(id)s.", id=rule_id))
