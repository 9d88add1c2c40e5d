"""Starter cards (gallery/*.json) and blank cards per type, both opened in the designer."""
import json
from functools import cache
from pathlib import Path

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Card
from .service import create_card
from .spec import TYPE_LABELS

GALLERY_DIR = Path(__file__).parent / "gallery"

# The gallery's own words: each starter's name and description, as gallery/*.json has them in
# English, marked here for translation (shown() and starter_card() look them up by that English).
# The starters' card content is the card's text, not ours: it stays as written.
STARTER_TEXTS = (
    _l("Announcement"),
    _l("An office notice with a key figure, details and a link to read more."),
    _l("News with image"),
    _l("A company story with a picture, short paragraphs and a link to the full article."),
    _l("RSVP with buttons"),
    _l("An invitation: attend, decline or maybe, with a meal choice."),
    _l("Single-choice poll"),
    _l("One question, one answer: pick a date."),
    _l("Multi-choice poll"),
    _l("Several answers allowed: which workshops interest you?"),
    _l("Survey with select lists"),
    _l("A short pulse survey: three dropdown questions and a submit button."),
    _l("Approval request"),
    _l("Approve or reject a request, with a menu to delegate or mute."),
)

# The smallest useful start per type: required blocks, generated keys, the user fills in the text.
BLANK_CARDS = {
    "text_notice": {"card_type": "text_notice", "main_title": {},
                    "card_action": {"type": 1}},
    "news_notice": {"card_type": "news_notice", "main_title": {}, "card_image": {},
                    "card_action": {"type": 1}},
    "button_interaction": {"card_type": "button_interaction", "main_title": {},
                           "button_list": [{"key": "btn_1"}, {"key": "btn_2", "style": 2}]},
    "vote_interaction": {
        "card_type": "vote_interaction", "main_title": {},
        "checkbox": {"question_key": "q_1", "mode": 0, "option_list": [
            {"id": "opt_1", "is_checked": False}, {"id": "opt_2", "is_checked": False}]},
        "submit_button": {"key": "submit"}},
    "multiple_interaction": {
        "card_type": "multiple_interaction", "main_title": {},
        "select_list": [{"question_key": "q_1", "option_list": [{"id": "opt_1"}, {"id": "opt_2"}]}],
        "submit_button": {"key": "submit"}},
}


@cache
def starters() -> dict[str, dict]:
    """slug -> {"name", "description", "template_card"}, in file order."""
    return {path.stem.split("-", 1)[1]: json.loads(path.read_text("utf-8"))
            for path in sorted(GALLERY_DIR.glob("*.json"))}


def _translated(english: str) -> str:
    """A starter's name or description in the current language (its id is in STARTER_TEXTS)."""
    return gettext(english)


def shown() -> dict[str, dict]:
    """The starters as the gallery shows them: name and description in the page's language."""
    return {slug: {**starter, "name": _translated(starter["name"]),
                   "description": _translated(starter["description"])}
            for slug, starter in starters().items()}


def starter_card(slug: str) -> tuple[str, dict]:
    """Name (in the current language, as the gallery showed it) and a fresh copy of a starter
    card's template_card."""
    starter = starters()[slug]
    return _translated(starter["name"]), json.loads(json.dumps(starter["template_card"]))


def blank_card(card_type: str) -> tuple[str, dict]:
    name = gettext("Untitled %(type)s card", type=str(TYPE_LABELS[card_type][0]).lower())
    return name, json.loads(json.dumps(BLANK_CARDS[card_type]))


def seed_gallery() -> list[str]:
    """Demo data: the starter cards as library cards, once, when the library is empty."""
    if db.session.scalar(db.select(Card.id).limit(1)) is not None:
        return ["Cards exist; the starter gallery was not added to the library."]
    for slug in starters():
        create_card(*starter_card(slug), actor="demo")
    return [f"Added {len(starters())} starter cards to the card library."]
