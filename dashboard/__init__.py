"""The WeCom template-card campaign dashboard."""
from flask import Flask

from . import config, errors, i18n, inputs, security, tasks, wecom_app
from .extensions import bootstrap, csrf, db, login_manager, migrate


class Dashboard(Flask):
    config_class = config.SafeConfig


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and CLI."""
    instance_path = (test_config or {}).get("INSTANCE_PATH")  # tests keep theirs in tmp
    app = Dashboard(__name__, instance_relative_config=True, instance_path=instance_path)
    config.load(app, test_config)

    db.init_app(app)
    migrate.init_app(app, db, directory=config.migrations_dir())
    csrf.init_app(app)
    bootstrap.init_app(app)
    i18n.init_app(app)
    wecom_app.init_app(app)
    security.init_app(app)
    inputs.init_app(app)
    tasks.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from . import (api, approvals, auth, callback, campaigns, cards, cli, conversations, directory, images, main,
                   reports, settings)

    login_manager.user_loader(auth.load_user)  # "<id>:<session token>", on a sign-in not ended
    for blueprint in (auth.bp, main.bp, cards.bp, images.bp, campaigns.bp, approvals.bp, conversations.bp,
                      directory.bp, callback.bp, reports.bp, settings.bp, *api.blueprints):
        app.register_blueprint(blueprint)
    csrf.exempt(callback.bp)
    csrf.exempt(api.bp)
    campaigns.init_app(app)  # the delivery jobs
    callback.init_app(app)  # the fast path, the roll-up and close-poll jobs, the task-id cache
    directory.init_app(app)  # the read, change-applying and periodic-sync jobs
    conversations.init_app(app)  # the answer jobs and the callback's handler for messages
    approvals.init_app(app)  # the card and notice jobs, the callback's handler for approval cards
    if app.config["SANDBOX"]:
        from . import sandbox  # never imported when a real WeCom app is configured

        sandbox.init_app(app)
    errors.register(app)
    cli.register(app)
    app.jinja_env.globals["nav_sections"] = main.nav_sections
    security.trust_proxies(app)  # outermost middleware: the callback's fast path sees the client
    return app
