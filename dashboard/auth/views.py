from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_remembered, login_user, logout_user

from ..extensions import db
from ..i18n import COOKIE
from ..models import RoleGrant, User, audit
from . import service, sessions, wecom_access
from .decorators import ANY_USER, public, role_required
from .forms import (GrantForm, LanguageForm, LoginForm, PasswordChangeForm, UserCreateForm, UserEditForm,
                    NoticesForm, WeComUseridForm)

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
            user, refusal = None, _too_many(locked)
        except service.PasswordSignInOff:
            user, refusal = None, _("Password sign-in is off for this user: sign in with WeCom.")
        db.session.commit()
        if user:
            login_user(user, remember=form.remember.data)
            sessions.start(user)
            return redirect(service.safe_next(request.args.get("next")) or url_for("main.home"))
        flash(refusal, "danger")
    return render_template("auth/login.html", form=form, next=service.safe_next(request.args.get("next")))


def _too_many(locked: service.TooManyAttempts) -> str:
    return ngettext("Too many attempts; try again in %(num)s minute.",
                    "Too many attempts; try again in %(num)s minutes.", locked.minutes)


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
    """Who you are, your WeCom userid, your language, your password, and where you are signed in."""
    return _account_page()


@bp.post("/account/wecom-userid")
@role_required(*ANY_USER)
def wecom_userid():
    form = WeComUseridForm()
    if not form.validate_on_submit():
        return _account_page(wecom_form=form), 422
    service.set_wecom_userid(current_user._get_current_object(), form.wecom_userid.data)
    db.session.commit()
    flash(_("Your WeCom userid is saved.") if current_user.wecom_userid
          else _("Your WeCom userid is removed."), "success")
    return redirect(service.safe_next(form.next.data) or url_for("auth.account"))


@bp.post("/account/password")
@role_required(*ANY_USER)
def password():
    """A new password of one's own ends every sign-in (and, unless unticked, the API tokens);
    this browser is signed in again with the new session token, as it was (kept signed in or not)."""
    form, user = PasswordChangeForm(), current_user._get_current_object()
    if not form.validate_on_submit():
        return _account_page(password_form=form), 422
    try:
        service.change_password(user, form.current_password.data, form.password.data,
                                revoke_tokens=form.revoke_tokens.data, source=request.remote_addr)
    except (service.WrongPassword, service.TooManyAttempts) as refused:
        db.session.commit()  # the refusal's audit row
        form.current_password.errors.append(
            _too_many(refused) if isinstance(refused, service.TooManyAttempts) else str(refused))
        return _account_page(password_form=form), 422
    db.session.commit()
    login_user(user, remember=login_remembered())
    sessions.start(user)
    flash(_("Your password is changed; you are signed out everywhere else and your API tokens are revoked.")
          if form.revoke_tokens.data else _("Your password is changed; you are signed out everywhere else."),
          "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/notices")
@role_required(*ANY_USER)
def notices():
    form, user = NoticesForm(), current_user._get_current_object()
    if not form.validate_on_submit():
        return _account_page(), 422
    if user.wecom_notices != form.wecom_notices.data:
        audit("user_changed", user, wecom_notices=[user.wecom_notices, form.wecom_notices.data])
        user.wecom_notices = form.wecom_notices.data
    db.session.commit()
    flash(_("You get notices about your campaigns in WeCom.") if user.wecom_notices
          else _("You no longer get notices about your campaigns in WeCom."), "success")
    return redirect(url_for("auth.account", _anchor="notices"))


def _account_page(*, wecom_form: WeComUseridForm | None = None,
                  password_form: PasswordChangeForm | None = None) -> str:
    """The account page, with the form that was posted and refused (the others fresh: formdata=None,
    or they would read the other form's fields)."""
    wecom_form = wecom_form or WeComUseridForm(formdata=None, data={
        "wecom_userid": current_user.wecom_userid, "next": service.safe_next(request.args.get("next"))})
    return render_template("auth/account.html", sign_ins=sessions.active(current_user),
                           this_one=sessions.current(), wecom_form=wecom_form,
                           password_form=password_form or PasswordChangeForm(formdata=None),
                           notices_form=NoticesForm(formdata=None, data={"wecom_notices": current_user.wecom_notices}))


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
    return _users_page()


def _users_page(*, form: UserCreateForm | None = None, grant_form: GrantForm | None = None) -> str:
    """The users, the new-user form and the WeCom sign-in grants, with the form that was refused."""
    rows = db.session.scalars(db.select(User).order_by(User.username)).all()
    grants = wecom_access.grants()
    return render_template("auth/users.html", users=rows, form=form or UserCreateForm(formdata=None),
                           grant_form=grant_form or GrantForm(formdata=None), grants=grants,
                           grant_names={g.id: wecom_access.grant_name(g) for g in grants},
                           granted_users=wecom_access.users_by_grant(), group_names=wecom_access.group_names())


@bp.route("/users/new", methods=["POST"])
@role_required("admin")
def user_create():
    form = UserCreateForm()
    if form.validate_on_submit():
        service.create_user(form.username.data, form.role.data, form.password.data or None,
                            wecom_userid=form.wecom_userid.data, password_login=bool(form.password.data))
        db.session.commit()
        flash(_("User %(name)s created.", name=form.username.data), "success")
        return redirect(url_for("auth.users"))
    return _users_page(form=form), 422


@bp.post("/users/grants")
@role_required("admin")
def grant_add():
    """Everyone in a WeCom department or with a tag may sign in with WeCom, with this role."""
    form = GrantForm()
    if form.validate_on_submit():
        try:
            wecom_access.add_grant(form.kind.data, form.target.data, form.role.data,
                                   actor=current_user._get_current_object())
        except wecom_access.GrantError:
            form.target.errors.append(_("This department or tag has a role already: remove it first."))
        else:
            db.session.commit()
            flash(_("Role granted: members sign in with WeCom from now on."), "success")
            return redirect(url_for("auth.users", _anchor="grants"))
    return _users_page(grant_form=form), 422


@bp.post("/users/grants/<int:grant_id>/remove")
@role_required("admin")
def grant_remove(grant_id):
    """The grant goes; the users it alone let in are deactivated (signed out, tokens revoked)."""
    grant = db.get_or_404(RoleGrant, grant_id)
    try:
        ended = wecom_access.remove_grant(grant, actor=current_user._get_current_object())
    except service.LastAdminError as refused:
        db.session.rollback()
        flash(str(refused), "danger")
        return redirect(url_for("auth.users", _anchor="grants"))
    db.session.commit()
    flash(ngettext("Grant removed; %(num)s user who came in through it is deactivated.",
                   "Grant removed; %(num)s users who came in through it are deactivated.", len(ended))
          if ended else _("Grant removed."), "success")
    return redirect(url_for("auth.users", _anchor="grants"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user_edit(user_id):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(user=user)
    if form.validate_on_submit():
        try:
            service.update_user(user, role=form.role.data, active=form.active.data,
                                password=form.password.data, revoke_tokens=form.revoke_tokens.data,
                                wecom_userid=form.wecom_userid.data,
                                password_login=form.password_login_wanted,
                                may_approve=form.may_approve.data)
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
