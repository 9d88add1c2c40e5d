"""The app's menu in the JSON API (issue 26 point 7): read the saved menu and when it was published,
and replace it: checked against WeCom's limits, then saved and published in one call."""
from __future__ import annotations

from flask_babel import gettext as _

from ..conversations import service as conversations
from ..conversations.menu import saved_menu
from ..extensions import db
from ..i18n import card_error_text
from ..models import AppMenu
from ..wecom.errors import WeComError
from ..wecom.menus import menu_body, menu_problems
from . import schemas
from .auth import api_role_required, api_user
from .errors import ApiError, Invalid
from .views import READERS, WRITERS, bp


@bp.get("/menu")
@api_role_required(*READERS)
def menu():
    return menu_json(saved_menu())


@bp.put("/menu")
@api_role_required(*WRITERS)
def update_menu():
    data = schemas.json_body()
    if problems := menu_problems(data):
        raise Invalid([{"path": p.path, "message": card_error_text(p), "code": p.code}
                       for p in problems[:schemas.MAX_ERRORS]])
    row = conversations.save_menu(menu_body(data), actor=api_user())
    db.session.commit()  # saved before WeCom is called: no write stays open (SQLite) during the call
    try:
        conversations.publish_menu(actor=api_user())
    except WeComError as exc:
        db.session.commit()  # WeCom's refusal, kept on the saved menu (publish_error)
        raise ApiError(502, _("WeCom refused or did not answer: %(error)s", error=exc),
                       **menu_json(row)) from None
    db.session.commit()
    return menu_json(row)


def menu_json(row: AppMenu) -> dict:
    """The saved menu as WeCom's JSON, and its last publication (times in ISO 8601, UTC)."""
    return {"button": menu_body(row.menu)["button"],
            "published_at": row.published_at.isoformat() if row.published_at else None,
            "published_by": row.published_by.username if row.published_by else None,
            "publish_error": row.publish_error}
