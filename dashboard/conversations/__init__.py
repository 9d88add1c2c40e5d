"""The app talks back: reply rules (keywords, a default reply, a welcome), the app's menu, and an
inbox of what members send it, with what the app or a staff member answered."""
from .blueprint import bp
from . import inbox  # noqa: F401  (routes)
from . import menu  # noqa: F401  (routes: the app's menu)
from . import reports  # noqa: F401  (routes)
from . import views  # noqa: F401  (routes: the reply rules)


def init_app(app) -> None:
    """The answer jobs, and the callback's handler for members' messages, menu clicks and entries."""
    from ..callback.service import ANY_MESSAGE, register_handler
    from . import demo, jobs, receive

    jobs.init_app(app)
    register_handler(app, [*receive.KINDS, ANY_MESSAGE], receive.on_conversation)  # every message
    app.extensions.setdefault("demo_seeders", []).append(demo.seed)  # `flask demo seed`: the demo rules


__all__ = ["bp", "init_app"]
