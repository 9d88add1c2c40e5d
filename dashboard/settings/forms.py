"""Buttons that change something: each a form, so CSRF protects it."""
from flask_wtf import FlaskForm
from wtforms import SubmitField


class SelfTestForm(FlaskForm):
    submit = SubmitField("Run the self-test")

