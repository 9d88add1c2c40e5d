"""Buttons that change something: each a form, so CSRF protects it."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class SelfTestForm(FlaskForm):
    submit = SubmitField(_l("Run the self-test"))


class TestCardForm(FlaskForm):
    submit = SubmitField(_l("Send me a test card"))
