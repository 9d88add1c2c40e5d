from .decorators import public, role_required
from .sessions import load_user
from .views import bp
from . import wecom_login  # noqa: F401  (routes: sign in with WeCom)

__all__ = ["bp", "load_user", "public", "role_required"]
