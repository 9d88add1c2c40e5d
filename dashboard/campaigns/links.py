"""Links a card carries to its campaign's report: a card's link fields may hold ``{report_url}``,
which the sender replaces, per campaign, with the report's sign-in link through WeCom (inside the
WeCom client the manager is signed in silently and lands on the report). The card in the library
keeps the placeholder, so one card serves every campaign."""
from __future__ import annotations

import copy
from urllib.parse import urlencode

from flask import current_app

from ..models import Campaign

REPORT_URL = "{report_url}"
LINK_FIELDS = ("card_action", "quote_area", "image_text_area")  # objects whose url opens a page
LINK_LISTS = ("jump_list", "horizontal_content_list", "button_list")  # lists of such objects


def report_url(campaign: Campaign) -> str:
    """The WeCom sign-in link that lands on the report the campaign's answers count in: a
    reminder's and a test send's is their parent's (a test send has no report of its own)."""
    return sign_in_url("reports.show", campaign_id=campaign.parent_id or campaign.id)


def sign_in_url(endpoint: str, **values) -> str:
    """The link that opens a page of ours from WeCom: it signs the person in through WeCom
    (silently inside the WeCom client) and lands on the page. Built without a request, as the
    worker sends cards too."""
    page = current_app.url_map.bind("").build(endpoint, values)
    base = current_app.config["DASHBOARD_URL"].rstrip("/")
    return f"{base}/auth/wecom?{urlencode({'next': page})}"


def with_links(template_card: dict, campaign: Campaign) -> dict:
    """The card as this campaign sends it: ``{report_url}`` in its link fields replaced; a copy,
    never the stored card."""
    links = link_objects(template_card)
    if not any(REPORT_URL in str(link.get("url", "")) for link in links):
        return template_card
    card = copy.deepcopy(template_card)
    target = report_url(campaign)
    for link in link_objects(card):
        if isinstance(link.get("url"), str):
            link["url"] = link["url"].replace(REPORT_URL, target)
    return card


def link_objects(card: dict) -> list[dict]:
    """The card's objects with a page-opening url (not its images' urls)."""
    found = [card.get(name) for name in LINK_FIELDS]
    for name in LINK_LISTS:
        items = card.get(name)
        found += items if isinstance(items, list) else []
    return [item for item in found if isinstance(item, dict)]
