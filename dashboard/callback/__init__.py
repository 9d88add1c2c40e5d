"""The WeCom callback route: the one unauthenticated, CSRF-exempt surface."""
from .views import bp

__all__ = ["bp"]
