"""The navigation bar: a section appears when its endpoint exists and the user's role allows it."""
from flask import current_app

# (label, endpoint, roles allowed besides admin, icon)
SECTIONS = [
    ("Home", "main.home", ("staff", "manager"), "house"),
    ("Cards", "cards.index", ("staff",), "card-heading"),
    ("Campaigns", "campaigns.index", ("staff",), "send"),
    ("Reports", "reports.index", ("manager", "staff"), "bar-chart"),
    ("Sandbox", "sandbox.index", ("staff", "manager"), "phone"),
    ("API", "api_docs.index", ("staff", "manager"), "braces"),
    ("Users", "auth.users", (), "people"),
    ("Settings", "settings.index", (), "gear"),
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
