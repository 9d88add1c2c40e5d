"""Read-only: the library search, pending drafts and version diffs."""
import json

from ..extensions import db
from ..models import Card

MISSING = object()


def library(q: str | None = None, card_type: str | None = None, archived: bool = False):
    """Select cards by name (substring, any case) and type, newest change first."""
    query = db.select(Card).where(Card.archived.is_(archived))
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Card.name.ilike(f"%{escaped}%", escape="\\"))
    if card_type:
        query = query.where(Card.card_type == card_type)
    return query.order_by(Card.updated_at.desc(), Card.id.desc())


def pending_draft(card: Card) -> dict | None:
    """The autosaved draft when it differs from what was saved last, else None."""
    draft, latest = card.draft, card.latest
    if not draft:
        return None
    if latest and draft.get("template_card") == latest.template_card and draft.get("name") == card.name:
        return None
    return draft


def flatten(value, path: str = "") -> dict[str, object]:
    """Leaves of a JSON value by path: {"button_list[0].text": "Yes", ...}; empty containers kept."""
    if isinstance(value, dict) and value:
        items = ((f"{path}.{k}" if path else k, v) for k, v in value.items())
    elif isinstance(value, list) and value:
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return {path: value}
    return {p: leaf for key, v in items for p, leaf in flatten(v, key).items()}


def diff(old: dict, new: dict) -> list[dict]:
    """Field-by-field changes between two cards: path, old and new (JSON text), change kind."""
    before, after = flatten(old), flatten(new)
    rows = []
    for path in [*before, *(p for p in after if p not in before)]:
        a, b = before.get(path, MISSING), after.get(path, MISSING)
        if a == b and type(a) is type(b):
            continue
        kind = "added" if a is MISSING else "removed" if b is MISSING else "changed"
        rows.append({"path": path, "kind": kind, "old": _text(a), "new": _text(b)})
    return rows


def _text(value) -> str:
    return "" if value is MISSING else json.dumps(value, ensure_ascii=False)
