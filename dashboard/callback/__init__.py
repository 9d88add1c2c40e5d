"""The WeCom callback route: the one unauthenticated, CSRF-exempt surface."""
from .views import bp


def init_app(app) -> None:
    """POST /wecom/callback's fast path past Flask, the per-process cache of task ids, the source
    allow-list, and the background job (closing a poll) on the queue."""
    from . import allow, polls
    from .fastpath import CallbackFastPath

    app.wsgi_app = CallbackFastPath(app.wsgi_app, app)
    app.extensions["callback_targets"] = {}
    allow.init_app(app)
    polls.register_task(app)


__all__ = ["bp", "init_app"]
