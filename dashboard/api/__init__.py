"""JSON API for integrators, its reference page and the user's own API tokens."""
from .docs import bp as docs_bp
from .tokens import bp as account_bp
from .views import bp

blueprints = (bp, docs_bp, account_bp)

__all__ = ["account_bp", "blueprints", "bp", "docs_bp"]
