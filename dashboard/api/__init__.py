"""JSON API for integrators, its reference page and the user's own API tokens."""
from .docs import bp as docs_bp
from .tokens import bp as account_bp
from .views import bp
from . import images  # noqa: F401  (routes: /images)
from . import menu  # noqa: F401  (routes: /menu)
from . import messages  # noqa: F401  (routes: /messages)
from . import reply_rules  # noqa: F401  (routes: /reply-rules)
from . import token_api  # noqa: F401  (routes: /tokens)

blueprints = (bp, docs_bp, account_bp)

__all__ = ["account_bp", "blueprints", "bp", "docs_bp"]
