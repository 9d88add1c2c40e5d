"""Card side effects (create, save with versions, clone, archive, autosave) and what campaigns ask of
cards. Every change adds an audit row; the caller commits."""
import logging

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import wecom_app
from ..callback.after_click import check as check_after_click
from ..callback.after_click import default_settings as default_after_click
from ..callback.after_click import set_after_click
from ..extensions import db
from ..i18n import card_error_text
from ..models import Campaign, Card, CardVersion, audit, utcnow
from ..wecom.cards import CardError, check, validate
from ..wecom.client import build_send_body

log = logging.getLogger(__name__)

PLACEHOLDER_TASK_ID = "assigned-when-sent"
NO_REPLY = {"mode": "none"}  # how a version without after-click settings behaves
# The preview's recipients: a placeholder, never "@all" (a card is sent to whom the campaign picks).
PREVIEW_TOUSER = _l("(chosen when you send)")


class CardInUse(Exception):
    """A card that a campaign used is archived, never deleted."""


def card_problems(card_or_version: Card | CardVersion | dict) -> list[CardError]:
    """What keeps a card (its latest version), a version or an unsaved template_card out of
    campaigns; [] when ready."""
    if isinstance(card_or_version, dict):
        return validate(card_or_version, require_task_id=False)
    version = card_or_version.latest if isinstance(card_or_version, Card) else card_or_version
    if version is None:
        return [CardError("", _("This card has never been saved."))]
    return validate(version.template_card, require_task_id=False)


def usable_in_campaign(version: CardVersion) -> bool:
    """True when the version has no problems (the sender still assigns its task_id)."""
    return not card_problems(version)


def needs_task_id(template_card: dict) -> bool:
    """Whether WeCom wants a task_id on this card (interactive types, or a notice with a menu)."""
    bare = {k: v for k, v in template_card.items() if k != "task_id"}
    return any(error.path == "task_id" for error in validate(bare))


def preview_body(template_card: dict) -> dict:
    """The message/send body the sender would post, with placeholder task_id and recipients."""
    card = dict(template_card)
    if "task_id" not in card and needs_task_id(card):
        card = {"card_type": card.get("card_type"), "task_id": PLACEHOLDER_TASK_ID, **card}
    return build_send_body(card, wecom_app.agent_id(), touser=str(PREVIEW_TOUSER))


def preview(template_card: dict) -> dict:
    """The designer's live preview: the exact send body, the card's problems at their paths and,
    beside them, its warnings (WeCom truncates or falls back there; the card stays usable)."""
    found = check(template_card, require_task_id=False)
    return {"payload": preview_body(template_card),
            "errors": [{"path": e.path, "message": card_error_text(e), "code": e.code}
                       for e in found if e.severity == "error"],
            "warnings": [{"path": w.path, "message": card_error_text(w)}
                         for w in found if w.severity == "warning"]}


def _actor(actor):
    if actor is None and current_user and current_user.is_authenticated:
        return current_user
    return actor


def create_card(name: str, template_card: dict, *, actor=None,
                after_click: dict | None = None) -> Card:
    """A new card with version 1. Its after-click settings: those given (checked), else the
    default of new cards (interactive ones grey out the clicked button with a caption)."""
    actor = _actor(actor)
    author = actor if hasattr(actor, "id") else None
    settings = (check_after_click(after_click, template_card) if after_click
                else default_after_click(template_card))
    card = Card(name=name, card_type=template_card.get("card_type", ""), created_by=author)
    card.versions.append(CardVersion(number=1, template_card=template_card, author=author,
                                     after_click=settings))
    db.session.add(card)
    db.session.flush()
    audit("card.created", card, actor=actor, name=name)
    log.info("card %s created by %s", card.id, getattr(actor, "username", actor))
    return card


def pinned_version_ids(card: Card) -> set[int]:
    """Ids of this card's versions that a campaign refers to."""
    ids = [v.id for v in card.versions]
    return set(db.session.scalars(
        db.select(Campaign.card_version_id).where(Campaign.card_version_id.in_(ids)).distinct()))


def save_card(card: Card, name: str, template_card: dict, *, after_click: dict | None = None,
              actor=None) -> tuple[CardVersion, bool]:
    """Save the designer's card: a new version if a campaign used the latest, else in place, with
    the after-click settings given (None keeps the version's: a new version copies them).

    Returns the saved version and whether it is new. An unchanged card only clears the draft.
    """
    version, is_new = _save_template(card, name, template_card, actor=_actor(actor))
    if after_click is not None and (check_after_click(after_click, template_card)
                                    != (version.after_click or NO_REPLY)):
        set_after_click(version, after_click, actor=_actor(actor))
    return version, is_new


def _save_template(card: Card, name: str, template_card: dict, *, actor) -> tuple[CardVersion, bool]:
    """The name and the card JSON, in place or as a new version (which copies the after-click)."""
    latest, card.draft, card.name = card.latest, None, name
    card.card_type = template_card.get("card_type", card.card_type)
    if latest is not None and latest.template_card == template_card:
        return latest, False
    author = actor if hasattr(actor, "id") else None
    is_new = latest is None or latest.id in pinned_version_ids(card)
    if is_new:
        latest = CardVersion(number=(latest.number + 1 if latest else 1), author=author,
                             after_click=latest.after_click if latest else None)
        card.versions.append(latest)
    latest.template_card, latest.author, latest.created_at = template_card, author, utcnow()
    db.session.flush()
    audit("card.saved", card, actor=actor, version=latest.number, new_version=is_new)
    log.info("card %s saved as version %s by %s", card.id, latest.number,
             getattr(actor, "username", actor))
    return latest, is_new


def autosave(card: Card, template_card: dict, name: str | None = None) -> None:
    """Keep the designer's unsaved state; shown as "restore unsaved draft?" on the next visit."""
    card.draft = {"template_card": template_card, "name": name or card.name,
                  "saved_at": utcnow().isoformat()}


def discard_draft(card: Card) -> None:
    card.draft = None


def clone_card(card: Card, *, actor=None) -> Card:
    clone = create_card(_("Copy of %(name)s", name=card.name)[:120], dict(card.latest.template_card),
                        actor=actor, after_click=card.latest.after_click)
    audit("card.cloned", card, actor=_actor(actor), clone_id=clone.id)
    return clone


def set_archived(card: Card, archived: bool, *, actor=None) -> None:
    card.archived = archived
    audit("card.archived" if archived else "card.restored", card, actor=_actor(actor))


def delete_card(card: Card, *, actor=None) -> None:
    """Delete a card no campaign ever used; CardInUse otherwise (archive it instead)."""
    if pinned_version_ids(card):
        raise CardInUse(_("“%(name)s” was used by a campaign; archive it instead.", name=card.name))
    audit("card.deleted", card, actor=_actor(actor), name=card.name)
    db.session.delete(card)
