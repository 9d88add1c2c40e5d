"""Filter forms for the report tables (GET, so no CSRF) and the reminder button (POST)."""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from .activity import describe_action
from .labels import CardLabels
from .people import Filters

ANSWERED = [SelectChoice("", _l("Everyone who got the card")), SelectChoice("yes", _l("Answered")),
            SelectChoice("no", _l("Not answered yet"))]
SORTS = [SelectChoice("time", _l("Time of last answer")), SelectChoice("userid", _l("User id")),
         SelectChoice("name", lazy_pgettext("person", "Name"))]
ORDERS = [SelectChoice("desc", _l("Newest / Z first")), SelectChoice("asc", _l("Oldest / A first"))]


class GetForm(FlaskForm):
    """Read from the query string; bad values are dropped rather than shown as errors."""

    class Meta:
        csrf = False

    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1)])

    def page_number(self) -> int:
        return self.page.data if self.page.data and not self.page.errors else 1


class AnswerFilterForm(GetForm):
    option = SelectField(_l("Answer"), choices=[], validate_choice=True, validators=[Optional()])
    department = SelectField(_l("Department"), choices=[], validators=[Optional()])
    answered = SelectField(_l("Answered"), choices=ANSWERED, validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=SORTS, default="time", validators=[Optional()])
    order = SelectField(_l("Order"), choices=ORDERS, default="desc", validators=[Optional()])

    def set_choices(self, labels: CardLabels, votes: dict, departments: list[tuple[int, str, int]]):
        """Options from the card (and any counted option the card does not name); departments
        indented under their parents."""
        options = [SelectChoice("", _("Any answer"))]
        for key in list(labels.questions) + [k for k in votes if k not in labels.questions]:
            ids = list(labels.questions[key].options) if key in labels.questions else []
            ids += [o for o in votes.get(key, {}) if o not in ids]
            options += [SelectChoice(json.dumps([key, o], ensure_ascii=False),
                                     f"{labels.question(key)}: {labels.option(key, o)}") for o in ids]
        self.option.choices = options
        self.department.choices = [SelectChoice("", _("Any department"))] + [
            SelectChoice(str(dept), "\u00a0\u00a0" * depth + name) for dept, name, depth in departments]

    def filters(self) -> Filters:
        """The valid filters; an invalid one is ignored."""
        valid = self.validate()

        def ok(field):
            return field.data if valid or not field.errors else None

        option = json.loads(ok(self.option)) if ok(self.option) else None
        department = ok(self.department)
        return Filters(option=tuple(option) if option else None,
                       department=int(department) if department else None,
                       answered=ok(self.answered) or None, sort=ok(self.sort) or "time",
                       descending=(ok(self.order) or "desc") == "desc", page=self.page_number())


class AuditFilterForm(GetForm):
    actor = StringField(_l("Actor"), validators=[Optional()])
    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    since = DateField(lazy_pgettext("time", "From"), validators=[Optional()])
    until = DateField(_l("Until (inclusive)"), validators=[Optional()])

    def set_choices(self, actions: list[str]) -> None:
        self.action.choices = [SelectChoice("", _("Any action"))] + [
            SelectChoice(a, describe_action(a) or a) for a in actions]

    def criteria(self, zone: str) -> dict:
        """Filters for activity.audit_page; the dates are whole days in the dashboard's zone."""
        self.validate()
        tz = ZoneInfo(zone)

        def day(field, shift=0):
            if field.data is None or field.errors:
                return None
            return datetime.combine(field.data + timedelta(days=shift), time(), tz)

        return {"actor": (self.actor.data or "").strip() or None,
                "action": None if self.action.errors else self.action.data or None,
                "since": day(self.since), "until": day(self.until, 1), "page": self.page_number()}


class RemindForm(FlaskForm):
    submit = SubmitField(_l("Remind those who have not answered"))
