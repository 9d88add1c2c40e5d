"""menu/create, menu/get and menu/delete as WeCom answers them, and the menu they published.

The menu is kept as JSON in one SharedValue row (no table of its own): the inbox pages draw it
from published_menu(). menu/create checks a menu with the product's own rules (menu_problems),
as message/send checks cards with the card rules, so the sandbox is as strict as the editor.
"""
from __future__ import annotations

import json

from flask import current_app

from ..extensions import db
from ..models import SharedValue
from ..wecom.menus import menu_body, menu_problems
from .answers import Refusal, ok

MENU = "sandbox.menu"  # the SharedValue row holding the published menu
NO_MENU = 46003  # menu/get without a menu: "menu no exist"


def _check_agent(query) -> None:
    """The menu calls name the app in the query string, not in a body."""
    agent = query.get("agentid")
    if not agent:
        raise Refusal(41011, "missing agentid")
    if agent != str(current_app.config["WECOM_AGENT_ID"]):
        raise Refusal(40056, f"invalid agentid {agent!r}")


def create(query, body: dict) -> dict:
    _check_agent(query)
    if problems := menu_problems(body):
        first = problems[0]
        raise Refusal(first.code or 40058, f"invalid {first.path or 'menu'}: {first.message}")
    value = json.dumps(menu_body(body), ensure_ascii=False)
    row = db.session.get(SharedValue, MENU)
    if row is None:
        db.session.add(SharedValue(name=MENU, value=value, expires_at=None))
    else:
        row.value, row.expires_at = value, None
    return ok()


def get(query, body: None) -> dict:
    _check_agent(query)
    menu = published_menu()
    if not menu["button"]:
        raise Refusal(NO_MENU, "menu no exist")
    return ok(**menu)


def delete(query, body: None) -> dict:
    _check_agent(query)
    db.session.execute(db.delete(SharedValue).where(SharedValue.name == MENU))
    return ok()


def published_menu() -> dict:
    """The menu members see, ``{"button": [...]}`` as menu/create took it; no buttons when none."""
    value = db.session.scalar(db.select(SharedValue.value).where(SharedValue.name == MENU))
    return json.loads(value) if value else {"button": []}
