"""JSON API for integrators."""
from .views import bp

__all__ = ["bp"]
