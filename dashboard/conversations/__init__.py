"""The app talks back: reply rules (keywords, a default reply, a welcome), the app's menu, and an
inbox of what members send it, with what the app or a staff member answered."""
from .blueprint import bp


def init_app(app) -> None:
    """The answer jobs, and the callback's handler for members' messages, menu clicks and entries."""
    from ..callback.service import register_handler
    from . import jobs, receive

    jobs.init_app(app)
    register_handler(app, receive.KINDS, receive.on_conversation)


__all__ = ["bp", "init_app"]
