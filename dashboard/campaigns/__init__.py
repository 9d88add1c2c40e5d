"""Campaigns: recipients, check before send, delivery, progress."""
from . import jobs
from .views import bp


def init_app(app) -> None:
    """The delivery jobs on the app's queue."""
    jobs.init_app(app)


__all__ = ["bp", "init_app"]
