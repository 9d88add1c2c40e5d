from .decorators import public, role_required
from .sessions import load_user
from .views import bp

__all__ = ["bp", "load_user", "public", "role_required"]
