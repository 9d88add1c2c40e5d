from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange


def _count(label: str, most: int, **kwargs) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(), NumberRange(0, most, f"Between 0 and {most}.")],
                        **kwargs)


class FaultsForm(FlaskForm):
    latency_ms = _count("Latency of every API call, ms", 10000)
    fail_next = _count("Answer errcode -1 (system busy) to the next N calls", 100)
    limit_next = _count("Answer errcode 45009 (rate limit) to the next N calls", 100)
    token_ttl = IntegerField("Access-token lifetime, seconds", validators=[
        InputRequired(), NumberRange(10, 7200, "Between 10 and 7200 seconds.")])
    duplicate_callbacks = BooleanField("Deliver every callback twice")
    slow_callbacks = _count("Answer the next N callback deliveries too late (past 5 s)", 20)
    submit = SubmitField("Save faults")

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "latency_ms", "fail_next", "limit_next", "token_ttl", "duplicate_callbacks",
            "slow_callbacks")}
