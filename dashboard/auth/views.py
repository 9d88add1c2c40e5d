from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_user, logout_user

from ..extensions import db
from ..i18n import COOKIE
from ..models import User
from . import service, sessions
from .decorators import ANY_USER, public, role_required
from .forms import LanguageForm, LoginForm, UserCreateForm, UserEditForm, WeComUseridForm

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.username.data, form.password.data, source=request.remote_addr)
            refusal = _("Wrong username or password.")
        except service.TooManyAttempts as locked:
            user, refusal = None, ngettext("Too many attempts; try again in %(num)s minute.",
                                           "Too many attempts; try again in %(num)s minutes.", locked.minutes)
        db.session.commit()
        if user:
            login_user(user, remember=form.remember.data)
            sessions.start(user)
            return redirect(service.safe_next(request.args.get("next")) or url_for("main.home"))
        flash(refusal, "danger")
    return render_template("auth/login.html", form=form)


@bp.post("/language")
@public
def language():
    """Switch the language: kept on the user when signed in, and in a cookie for the login page."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        current_user.language = form.language.data
        db.session.commit()
    response = redirect(service.safe_next(form.next.data) or url_for("main.home"))
    response.set_cookie(COOKIE, form.language.data, max_age=365 * 86400, samesite="Lax",
                        httponly=True, secure=request.is_secure)
    return response


@bp.route("/logout", methods=["POST"])
@role_required(*ANY_USER)
def logout():
    """Signing out ends every sign-in of the user: a copy of this browser's cookies dies with it."""
    service.end_sessions(current_user._get_current_object(), action="logout")
    db.session.commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account")
@role_required(*ANY_USER)
def account():
    """Who you are, your WeCom userid, your language, and where you are signed in."""
    form = WeComUseridForm(data={"wecom_userid": current_user.wecom_userid,
                                 "next": service.safe_next(request.args.get("next"))})
    return _account_page(form)


@bp.post("/account/wecom-userid")
@role_required(*ANY_USER)
def wecom_userid():
    form = WeComUseridForm()
    if not form.validate_on_submit():
        return _account_page(form), 422
    service.set_wecom_userid(current_user._get_current_object(), form.wecom_userid.data)
    db.session.commit()
    flash(_("Your WeCom userid is saved.") if current_user.wecom_userid
          else _("Your WeCom userid is removed."), "success")
    return redirect(service.safe_next(form.next.data) or url_for("auth.account"))


def _account_page(form: WeComUseridForm) -> str:
    return render_template("auth/account.html", sign_ins=sessions.active(current_user),
                           this_one=sessions.current(), wecom_form=form)


@bp.post("/account/sign-out-everywhere")
@role_required(*ANY_USER)
def sign_out_everywhere():
    service.end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("You are signed out everywhere."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/users")
@role_required("admin")
def users():
    rows = db.session.scalars(db.select(User).order_by(User.username)).all()
    return render_template("auth/users.html", users=rows, form=UserCreateForm())


@bp.route("/users/new", methods=["POST"])
@role_required("admin")
def user_create():
    form = UserCreateForm()
    if form.validate_on_submit():
        service.create_user(form.username.data, form.role.data, form.password.data)
        db.session.commit()
        flash(_("User %(name)s created.", name=form.username.data), "success")
        return redirect(url_for("auth.users"))
    rows = db.session.scalars(db.select(User).order_by(User.username)).all()
    return render_template("auth/users.html", users=rows, form=form), 422


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user_edit(user_id):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        try:
            service.update_user(user, role=form.role.data, active=form.active.data,
                                password=form.password.data, revoke_tokens=form.revoke_tokens.data)
        except service.LastAdminError as exc:
            form.role.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_edit.html", user=user, form=form)


@bp.post("/users/<int:user_id>/end-sessions")
@role_required("admin")
def user_end_sessions(user_id):
    """Sign a user out everywhere (a lost phone, a shared computer); they sign in again."""
    user = db.get_or_404(User, user_id)
    service.end_sessions(user)
    db.session.commit()
    flash(_("Every sign-in of %(name)s is ended.", name=user.username), "success")
    return redirect(url_for("auth.users"))
