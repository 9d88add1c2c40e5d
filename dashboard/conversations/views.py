"""The reply rules' pages: the list in priority order with the default reply and the welcome, and
one editor for all three kinds. Saving goes through service.save_rule, which tells every process
to reload the rules, so the next message is answered by what was saved."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth import role_required
from ..extensions import db
from ..models import Card, ConversationMessage, ReplyRule
from . import service
from .blueprint import READERS, STAFF, bp
from .forms import MATCH_CHOICES, ActionForm, RuleForm

SPECIAL = ("default", "welcome")
_ENDPOINTS = {"default": "default_reply", "welcome": "welcome"}  # their editors' endpoints
#: The conversations' pages, as tabs on the rules list (those that exist in this build).
SECTIONS = [(_l("Reply rules"), "conversations.index"), (_l("Inbox"), "conversations.inbox"),
            (_l("App menu"), "conversations.menu"), (_l("Message report"), "conversations.report")]


@bp.route("/")
@role_required(*READERS)
def index():
    rules = db.session.scalars(db.select(ReplyRule).filter_by(kind="keyword")
                               .order_by(ReplyRule.priority, ReplyRule.id)).all()
    specials = {kind: service.special_rule(kind) for kind in SPECIAL}
    shown = [rule for rule in [*rules, *specials.values()] if rule is not None]
    return render_template("conversations/index.html", rules=rules, specials=specials, matched=_matched(),
                           cards=_card_names(shown), action_form=ActionForm(), welcome_every=_welcome_every(),
                           match_labels={choice.value: choice.label for choice in MATCH_CHOICES},
                           sections=[(label, endpoint) for label, endpoint in SECTIONS
                                     if endpoint in current_app.view_functions])


@bp.route("/rules/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new_rule():
    return _editor(None, "keyword")


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def rule(rule_id):
    found = db.get_or_404(ReplyRule, rule_id)
    if found.kind in SPECIAL:  # the default reply and the welcome have their own pages
        return redirect(url_for(f".{_ENDPOINTS[found.kind]}"))
    return _editor(found, "keyword")


@bp.route("/default", methods=["GET", "POST"])
@role_required(*STAFF)
def default_reply():
    return _editor(service.special_rule("default"), "default")


@bp.route("/welcome", methods=["GET", "POST"])
@role_required(*STAFF)
def welcome():
    return _editor(service.special_rule("welcome"), "welcome")


@bp.route("/rules/<int:rule_id>/delete", methods=["POST"])
@role_required(*STAFF)
def delete_rule(rule_id):
    found = db.get_or_404(ReplyRule, rule_id)
    if ActionForm().validate_on_submit():
        service.delete_rule(found, actor=_actor())
        db.session.commit()
        flash(_("“%(name)s” deleted.", name=found.name), "success")
    return redirect(url_for(".index"))


@bp.route("/rules/<int:rule_id>/enabled", methods=["POST"])
@role_required(*STAFF)
def switch_rule(rule_id):
    found = db.get_or_404(ReplyRule, rule_id)
    form = ActionForm()
    if form.validate_on_submit():
        service.save_rule(found, {"enabled": form.enabled.data}, actor=_actor())
        db.session.commit()
        flash(_("“%(name)s” is on.", name=found.name) if found.enabled
              else _("“%(name)s” is off.", name=found.name), "success")
    return redirect(url_for(".index"))


def _editor(found: ReplyRule | None, kind: str):
    names = {"keyword": "", "default": _("Default reply"), "welcome": _("Welcome")}
    form = RuleForm.for_rule(found, kind, name=names[kind])
    if form.validate_on_submit():
        saved = service.save_rule(found, form.fields(), actor=_actor())
        db.session.commit()
        flash(_("“%(name)s” saved; it answers the next message.", name=saved.name), "success")
        return redirect(url_for(".index"))
    return render_template("conversations/rule_form.html", form=form, rule=found, kind=kind,
                           action_form=ActionForm(), welcome_every=_welcome_every())


def _actor():
    return current_user._get_current_object()  # the User itself: it becomes the rule's created_by


def _matched() -> dict[int, int]:
    """How many messages (or entries, for the welcome) each rule answered, from the inbox."""
    answered = db.func.count(db.distinct(ConversationMessage.in_reply_to))
    rows = db.session.execute(db.select(ConversationMessage.rule_id, answered)
                              .where(ConversationMessage.direction == "out")
                              .where(ConversationMessage.rule_id.is_not(None))
                              .group_by(ConversationMessage.rule_id))
    return {rule_id: count for rule_id, count in rows}


def _card_names(rules: list[ReplyRule]) -> dict[int, str]:
    ids = {reply.get("card_id") for rule in rules for reply in rule.replies if reply.get("type") == "card"}
    if not ids:
        return {}
    return dict(db.session.execute(db.select(Card.id, Card.name).where(Card.id.in_(ids))).all())


def _welcome_every() -> str:
    """WELCOME_EVERY as people say it ("1 day", "1天")."""
    return format_timedelta(timedelta(seconds=current_app.config["WELCOME_EVERY"]), threshold=1)
