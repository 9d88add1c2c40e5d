"""Access rules, as decorators: every view carries one, and a test checks that."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str):
    """Logged in, and one of roles (admins always pass); anonymous users go to the login page."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = roles
        return wrapped

    return decorator


def public(view):
    """Mark a view as deliberately open to anonymous visitors."""
    view.access = "public"
    return view


ANY_USER = ("admin", "staff", "manager")
