"""The inbox (消息): one thread per member, a member's thread as a chat, and answering by hand
(staff; managers read)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, Form, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..auth import role_required
from ..directory import snapshot
from ..models import utcnow
from ..wecom.replies import TEXT_LIMIT
from . import queries, service
from .blueprint import READERS, STAFF, bp

THREADS_PER_PAGE = 30
MESSAGES_PER_PAGE = 50
MAX_PAGE, MAX_ID = 100_000, 2**31 - 1  # beyond them: page 1, no message (never a database overflow)
YEARS = (1970, 9998)  # dates the time zones convert safely


def _sane_year(_form, field) -> None:
    if field.data and not YEARS[0] <= field.data.year <= YEARS[1]:
        raise ValidationError(_("Choose a date between %(first)s and %(last)s.", first=YEARS[0], last=YEARS[1]))


class FilterForm(Form):
    """The inbox's filters, from the query string (a GET form: nothing changes, no CSRF token)."""

    member = StringField(_l("Member (name or account)"), validators=[Optional(), Length(max=64)])
    q = StringField(_l("Words in the message"), validators=[Optional(), Length(max=64)])
    department = IntegerField(_l("Department"), validators=[Optional()])
    start = DateField(lazy_pgettext("time", "From"), validators=[Optional(), _sane_year])
    end = DateField(lazy_pgettext("time", "Until"), validators=[Optional(), _sane_year])
    unanswered = BooleanField(_l("Unanswered only"))

    def filters(self) -> queries.Filters:
        """The valid filters; a field with an error (shown at the field) filters nothing."""
        def good(field, empty=None):
            return empty if field.errors or field.data in (None, "") else field.data

        return queries.Filters(member=good(self.member, ""), q=good(self.q, ""),
                               department=good(self.department), start=good(self.start),
                               end=good(self.end), unanswered=bool(self.unanswered.data))

    def query(self) -> dict:
        """The filters as the pager's links carry them."""
        return {name: request.args[name] for name in ("member", "q", "department", "start", "end",
                                                      "unanswered") if request.args.get(name)}


def _fits(_form, field) -> None:
    size = len((field.data or "").strip().encode())
    if size > TEXT_LIMIT:
        raise ValidationError(_("%(size)s bytes; at most %(limit)s.", size=f"{size:,}",
                                limit=f"{TEXT_LIMIT:,}"))


class ReplyForm(FlaskForm):
    text = TextAreaField(_l("Your answer"), validators=[DataRequired(_l("Write the answer first.")), _fits])
    submit = SubmitField(_l("Send the answer"))


@bp.route("/inbox")
@role_required(*READERS)
def inbox():
    form = FilterForm(request.args)
    form.validate()
    page = queries.threads(form.filters(), page=_arg("page", 1, MAX_PAGE), per_page=THREADS_PER_PAGE)
    return render_template("conversations/inbox.html", form=form, page=page, query=form.query(),
                           tree=snapshot.department_tree())


@bp.route("/inbox/<userid>")
@role_required(*READERS)
def thread(userid):
    target = queries.incoming(_arg("reply_to", 0, MAX_ID))
    return _thread_page(userid, ReplyForm(), target if target and target.userid == userid else None)


@bp.route("/messages/<int:message_id>/reply", methods=["POST"])
@role_required(*STAFF)
def reply(message_id):
    message = queries.incoming(message_id)
    if message is None:
        abort(404)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _thread_page(message.userid, form, message), 422
    answer = service.reply_by_hand(message, form.text.data, actor=current_user)
    if answer.status == "failed":
        flash(_("WeCom did not take the answer: %(error)s", error=answer.error), "danger")
    else:
        flash(_("Answer sent."), "success")
    return redirect(url_for(".thread", userid=message.userid, _anchor=f"message-{answer.id}"))


def _thread_page(userid: str, form: ReplyForm, target=None) -> str:
    """The thread, with the reply form answering ``target`` (default: the latest message)."""
    page = queries.thread(userid, page=_arg("page", 1, MAX_PAGE), per_page=MESSAGES_PER_PAGE)
    if not page.total:
        abort(404)
    now = utcnow()
    return render_template("conversations/thread.html", userid=userid, page=page, form=form,
                           name=queries.names([userid]).get(userid.lower()),
                           target=target or queries.latest_incoming(userid),
                           cards=queries.card_names(page.items), web_url=queries.web_url,
                           picture=lambda message: queries.picture(message, now))


def _arg(name: str, default: int, high: int) -> int:
    """A whole-number query parameter from 1 to high; ``default`` for anything else."""
    value = request.args.get(name, default, type=int)
    return value if 1 <= value <= high else default
