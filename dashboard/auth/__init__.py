from .decorators import public, role_required
from .views import bp

__all__ = ["bp", "public", "role_required"]
