"""The WeCom directory, kept current: read on first need, re-read in the background, changed by
WeCom's ``change_contact`` callbacks, named from the admin console's export where WeCom hides names.
"""
from .views import bp


def init_app(app) -> None:
    """The read, apply and periodic-sync jobs."""
    from . import jobs

    jobs.init_app(app)


__all__ = ["bp", "init_app"]
