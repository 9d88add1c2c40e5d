"""The WeCom callback route: the one unauthenticated, CSRF-exempt surface."""
from .views import bp


def init_app(app) -> None:
    """POST /wecom/callback's fast path past Flask, the per-process cache of task ids, the source
    allow-list, and the background jobs (the report summaries' roll-up, closing a poll)."""
    from . import allow, jobs
    from .fastpath import CallbackFastPath

    app.wsgi_app = CallbackFastPath(app.wsgi_app, app)
    app.extensions["callback_targets"] = {}
    app.extensions.setdefault("callback_handlers", {})  # features add theirs (service.register_handler)
    allow.init_app(app)
    jobs.init_app(app)


__all__ = ["bp", "init_app"]
