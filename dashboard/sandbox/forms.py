from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange


def _count(label, most: int, **kwargs) -> IntegerField:
    between = NumberRange(0, most, _l("Between %(min)s and %(max)s."))  # NumberRange fills in min and max
    return IntegerField(label, validators=[InputRequired(), between], **kwargs)


class FaultsForm(FlaskForm):
    latency_ms = _count(_l("Latency of every API call, ms"), 10000)
    fail_next = _count(_l("Answer errcode -1 (system busy) to the next N calls"), 100)
    limit_next = _count(_l("Answer errcode 45009 (rate limit) to the next N calls"), 100)
    token_ttl = IntegerField(_l("Access-token lifetime, seconds"), validators=[
        InputRequired(), NumberRange(10, 7200, _l("Between %(min)s and %(max)s seconds."))])
    duplicate_callbacks = BooleanField(_l("Deliver every callback twice"))
    slow_callbacks = _count(_l("Answer the next N callback deliveries too late (past 5 s)"), 20)
    submit = SubmitField(_l("Save faults"))

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "latency_ms", "fail_next", "limit_next", "token_ttl", "duplicate_callbacks",
            "slow_callbacks")}


class ScanAsForm(FlaskForm):
    """The member who "scans" the sandbox's QR code: one submit button per employee, named userid."""

    userid = StringField(validators=[DataRequired(), Length(max=64)])
