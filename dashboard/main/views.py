from flask import Blueprint, render_template

from ..auth import role_required
from ..auth.decorators import ANY_USER

bp = Blueprint("main", __name__)


@bp.route("/")
@role_required(*ANY_USER)
def home():
    return render_template("main/home.html")


@bp.app_template_filter("datetime")
def format_datetime(value, fmt="%Y-%m-%d %H:%M"):
    """A UTC datetime shown in the dashboard's time zone (config TIMEZONE)."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)
