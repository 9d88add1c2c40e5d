"""Admin settings and callback diagnostics."""
from .views import bp

__all__ = ["bp"]
