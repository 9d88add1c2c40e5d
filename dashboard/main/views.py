from flask import Blueprint, current_app, render_template
from flask_login import current_user

from ..auth import role_required
from ..auth.decorators import ANY_USER, public
from ..reports import activity
from . import health

bp = Blueprint("main", __name__)


@bp.route("/")
@role_required(*ANY_USER)
def home():
    """This week's campaigns and figures, recent activity, and what needs attention."""
    zone = current_app.config["TIMEZONE"]
    return render_template("main/home.html", week=activity.this_week(current_user, zone),
                           feed=activity.feed(current_user), attention=activity.attention(current_user))


@bp.get("/healthz")
@public
def healthz():
    """For load balancers and monitors: 200 when this process reaches the database and the
    queue, else 503 naming the part that failed. No login, no secrets."""
    parts = health.check()
    ok = all(result == "ok" for result in parts.values())
    return {"status": "ok" if ok else "error", **parts}, 200 if ok else 503, {
        "Cache-Control": "no-store"}
