"""The WeCom template-card campaign dashboard."""
from flask import Flask

from . import config, errors
from .extensions import bootstrap, csrf, db, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and CLI."""
    app = Flask(__name__, instance_relative_config=True)
    config.load(app, test_config)

    db.init_app(app)
    migrate.init_app(app, db, directory=config.migrations_dir())
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from . import auth, cli, main, models

    login_manager.user_loader(lambda user_id: db.session.get(models.User, int(user_id)))
    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    errors.register(app)
    cli.register(app)
    app.jinja_env.globals["nav_sections"] = main.nav_sections
    return app
