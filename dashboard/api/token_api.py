"""The caller's own API tokens in the JSON API: list them (with the calling one marked, so an
integrator sees when it expires), make one (an expiry and a scope of its own; the plaintext is in
the answer once) and revoke one. The same service as the account page and the CLI."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _

from ..extensions import db
from ..models import ApiToken
from . import schemas, service
from .auth import api_role_required, api_user
from .errors import ApiError
from .views import ID, READERS, bp


@bp.get("/tokens")
@api_role_required(*READERS)
def token_list():
    return {"items": [token_json(token) for token in service.tokens_of(api_user())]}


@bp.post("/tokens")
@api_role_required(*READERS)
def create_token():
    data = schemas.parse("TokenCreate")
    token, plaintext = service.create_token(api_user(), data["name"].strip(), scope=data.get("scope", "full"),
                                            expires_in_days=data.get("expires_in_days"), actor=api_user())
    db.session.commit()
    return {**token_json(token), "token": plaintext}, 201


@bp.delete(f"/tokens/<{ID}:token_id>")
@api_role_required(*READERS)
def revoke_token(token_id):
    token = db.session.scalar(db.select(ApiToken).filter_by(id=token_id, user_id=api_user().id))
    if token is None:
        raise ApiError(404, _("You have no API token %(id)s.", id=token_id))
    service.revoke_token(token, actor=api_user())
    db.session.commit()
    return token_json(token)


def token_json(token: ApiToken) -> dict:
    """A token without its secret: the first characters (prefix) tell it apart."""
    def when(value):
        return value.isoformat() if value else None

    return {"id": token.id, "name": token.name, "prefix": token.prefix, "scope": token.scope,
            "created_at": when(token.created_at), "expires_at": when(token.expires_at),
            "last_used_at": when(token.last_used_at), "revoked_at": when(token.revoked_at),
            "current": token.id == g.api_token.id}
