"""Built-in WeCom simulator; registered only in sandbox mode."""
from .views import bp


def init_app(app) -> None:
    app.register_blueprint(bp)


__all__ = ["bp", "init_app"]
