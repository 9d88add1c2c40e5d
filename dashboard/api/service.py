"""API tokens, issued and revoked for the account page and the CLI alike; the caller commits."""
import logging
from datetime import datetime, timedelta

from ..extensions import db
from ..models import ApiToken, User, audit, utcnow

log = logging.getLogger(__name__)

MAX_DAYS = 3650  # the longest expiry the page and the CLI offer: ten years


def _name(actor) -> str:
    return getattr(actor, "username", None) or str(actor)


def create_token(user: User, name: str, *, scope: str = "full", expires_in_days: int | None = None,
                 actor=None) -> tuple[ApiToken, str]:
    """A new token for user and its plaintext, to show once: only its hash is stored.

    expires_in_days None: the token works until it is revoked."""
    expires_at = expiry(expires_in_days)
    token, plaintext = ApiToken.issue(user, name, scope=scope, expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    audit("api_token_created", token, actor=actor or user, name=name, user=user.username, scope=scope,
          expires_at=expires_at.isoformat(timespec="seconds") if expires_at else None)
    log.info("API token %s… (%s, %s) of %s created by %s, expires %s", token.prefix, name, scope,
             user.username, _name(actor or user), expires_at or "never")
    return token, plaintext


def expiry(days: int | None) -> datetime | None:
    """When a token made now for days days expires; None for no expiry."""
    if days is None:
        return None
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a token expires in 1 to {MAX_DAYS} days, not {days}")
    return utcnow() + timedelta(days=days)


def revoke_token(token: ApiToken, *, actor=None) -> None:
    """From now on the token gets 401; revoking twice changes nothing."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    audit("api_token_revoked", token, actor=actor or token.user, name=token.name,
          user=token.user.username)
    log.info("API token %s… of %s revoked by %s", token.prefix, token.user.username,
             _name(actor or token.user))


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, live ones first, newest first."""
    return db.session.scalars(db.select(ApiToken).filter_by(user_id=user.id).order_by(
        ApiToken.revoked_at.is_not(None), ApiToken.id.desc())).all()


def all_tokens(page: int, per_page: int = 50):
    """Every user's tokens for the admins' page (a db.paginate result), live ones first."""
    query = db.select(ApiToken).join(ApiToken.user).order_by(
        ApiToken.revoked_at.is_not(None), User.username, ApiToken.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
