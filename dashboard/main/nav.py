"""The navigation bar: a section appears when its endpoint exists and the user's role allows it."""
from flask import current_app
from flask_babel import lazy_gettext as _l

# (label, endpoint, roles allowed besides admin, icon)
SECTIONS = [
    (_l("Home"), "main.home", ("staff", "manager"), "house"),
    (_l("Cards"), "cards.index", ("staff",), "card-heading"),
    (_l("Images"), "images.index", ("staff",), "images"),
    (_l("Campaigns"), "campaigns.index", ("staff",), "send"),
    (_l("Approvals"), "approvals.index", ("staff", "manager"), "patch-check"),
    (_l("Reports"), "reports.index", ("manager", "staff"), "bar-chart"),
    (_l("Conversations"), "conversations.index", ("staff", "manager"), "chat-dots"),
    (_l("Directory"), "directory.index", ("staff", "manager"), "diagram-3"),
    (_l("Sandbox"), "sandbox.index", ("staff", "manager"), "phone"),
    (_l("API"), "api_docs.index", ("staff", "manager"), "braces"),
    (_l("Users"), "auth.users", (), "people"),
    (_l("Settings"), "settings.index", (), "gear"),
]


def nav_sections(user) -> list[tuple[str, str, str]]:
    if not user.is_authenticated:
        return []
    views = current_app.view_functions
    return [
        (label, endpoint, icon)
        for label, endpoint, roles, icon in SECTIONS
        if endpoint in views and user.has_role(*roles)
    ]
