"""The user's own API tokens: list, create (the plaintext is shown once), revoke."""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
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
        token, plaintext = service.create_token(current_user, form.name.data.strip())
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
    if not RevokeForm().validate_on_submit():
        abort(400)
    service.revoke_token(token)
    db.session.commit()
    flash(_("Token “%(name)s” revoked: requests carrying it now get 401.", name=token.name), "success")
    return redirect(url_for(".tokens"))
