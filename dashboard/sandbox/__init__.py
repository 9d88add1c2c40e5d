"""Built-in WeCom simulator; imported and registered only in sandbox mode (no WECOM_CORP_ID).

It depends on the product's public pieces only: the protocol library (dashboard.wecom), the
models, the task queue and the app's callback URL. Nothing in the product imports it.
"""
from . import jobs
from .directory import seed_directory
from .views import bp

DEFAULTS = {
    "SANDBOX_TOKEN_TTL": 7200,  # seconds an access token lives (editable on the control page)
    "SANDBOX_CALLBACK_TIMEOUT": 5.0,  # WeCom waits 5 s for the callback's answer
    "SANDBOX_CALLBACK_RETRY_DELAY": 1.0,  # seconds before each of the 3 retries
}


def init_app(app) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
    app.extensions["sandbox"] = {"deliver_callback": jobs.init_app(app), "seed_directory": seed_directory}
    app.extensions.setdefault("demo_seeders", []).append(seed_directory)  # `flask demo seed` runs these


__all__ = ["bp", "init_app", "seed_directory"]
