from sqlalchemy import inspect

from dashboard import create_app
from dashboard.extensions import db
from tests import databases


def test_upgrade_builds_an_empty_database_and_check_finds_no_drift(tmp_path):
    """On the database the suite runs on: SQLite, or PostgreSQL with --db postgresql."""
    url = databases.database_url(tmp_path, empty=True)
    app = create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path / "instance")})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"user", "card", "campaign", "send_batch", "delivery", "card_event", "audit_log"} <= tables
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output  # `db check` exits 1 on any drift
