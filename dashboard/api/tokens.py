"""API tokens: the user's own (list, create: the plaintext is shown once, revoke) and, for admins,
every user's (list, revoke)."""
from flask import (Blueprint, abort, flash, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import ANY_USER, role_required
from ..extensions import db
from ..models import ApiToken
from . import service
from .forms import RevokeForm, TokenForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/tokens", methods=["GET", "POST"])
@role_required(*ANY_USER)
def tokens():
    """Rendered, not redirected, after a create: the plaintext exists only in this response."""
    form, plaintext = TokenForm(), None
    if form.validate_on_submit():
        token, plaintext = service.create_token(current_user, form.name.data.strip(),
                                                scope=form.scope.data,
                                                expires_in_days=form.expires_in.data)
        db.session.commit()
        flash(_("Token “%(name)s” created. Copy it now: it is not shown again.", name=token.name), "success")
        form = TokenForm(formdata=None)
    response = make_response(render_template(
        "api/tokens.html", form=form, plaintext=plaintext, revoke_form=RevokeForm(),
        tokens=service.tokens_of(current_user)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@role_required(*ANY_USER)
def revoke(token_id):
    token = db.first_or_404(db.select(ApiToken).filter_by(id=token_id, user_id=current_user.id))
    _revoke(token)
    return redirect(url_for(".tokens"))


@bp.route("/tokens/all")
@role_required("admin")
def all_tokens():
    """Every user's tokens, so an admin can see what integrations exist and end any of them."""
    pagination = service.all_tokens(request.args.get("page", 1, type=int))
    return render_template("api/all_tokens.html", pagination=pagination, revoke_form=RevokeForm())


@bp.route("/tokens/all/<int:token_id>/revoke", methods=["POST"])
@role_required("admin")
def revoke_any(token_id):
    _revoke(db.get_or_404(ApiToken, token_id))
    return redirect(url_for(".all_tokens", page=request.args.get("page", 1, type=int)))


def _revoke(token: ApiToken) -> None:
    if not RevokeForm().validate_on_submit():
        abort(400)
    service.revoke_token(token, actor=current_user)
    db.session.commit()
    flash(_("Token “%(name)s” revoked: requests carrying it now get 401.", name=token.name), "success")
