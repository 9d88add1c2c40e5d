"""Card designer and library."""
from .views import bp

__all__ = ["bp"]
