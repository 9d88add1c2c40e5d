import sqlite3

from dashboard import create_app


def test_upgrade_builds_an_empty_database_and_check_finds_no_drift(tmp_path):
    path = tmp_path / "fresh.sqlite"
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables = {row[0] for row in sqlite3.connect(path).execute("select name from sqlite_master")}
    assert {"user", "card", "campaign", "send_batch", "delivery", "card_event", "audit_log"} <= tables
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output  # `db check` exits 1 on any drift
