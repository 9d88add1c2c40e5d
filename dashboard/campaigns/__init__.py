"""Campaigns: recipients, check before send, delivery, progress."""
from .views import bp

__all__ = ["bp"]
