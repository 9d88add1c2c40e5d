"""The WeCom callback route: the one unauthenticated, CSRF-exempt surface."""
from .views import bp


def init_app(app) -> None:
    """The per-process cache of task ids, the source allow-list, and the background job (closing
    a poll) on the queue."""
    from . import allow, polls

    app.extensions["callback_targets"] = {}
    allow.init_app(app)
    polls.register_task(app)


__all__ = ["bp", "init_app"]
