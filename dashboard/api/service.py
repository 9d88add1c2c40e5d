"""API tokens, issued and revoked for the account page and the CLI alike; the caller commits."""
import logging

from ..extensions import db
from ..models import ApiToken, User, audit, utcnow

log = logging.getLogger(__name__)


def _name(actor) -> str:
    return getattr(actor, "username", None) or str(actor)


def create_token(user: User, name: str, *, actor=None) -> tuple[ApiToken, str]:
    """A new token for user and its plaintext, to show once: only its hash is stored."""
    token, plaintext = ApiToken.issue(user, name)
    db.session.add(token)
    db.session.flush()
    audit("api_token_created", token, actor=actor or user, name=name, user=user.username)
    log.info("API token %s… (%s) of %s created by %s", token.prefix, name, user.username,
             _name(actor or user))
    return token, plaintext


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
