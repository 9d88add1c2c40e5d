import pytest

from dashboard import create_app
from dashboard.config import ConfigError
from tests import databases
from tests.conftest import make_app


def test_test_config_overrides_defaults(app, tmp_path):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret-of-at-least-32-bytes"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == databases.database_url(tmp_path)
    assert app.config["SANDBOX"] is True
    assert app.config["WECOM_API_BASE"] == "http://127.0.0.1:9/sandbox/cgi-bin"
    assert app.instance_path.startswith(str(tmp_path))


def test_sandbox_credentials_are_generated_once_and_kept(tmp_path):
    first = make_app(tmp_path).config
    second = make_app(tmp_path).config
    keys = ["WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY"]
    assert [first[k] for k in keys] == [second[k] for k in keys]
    assert len(first["WECOM_AES_KEY"]) == 43 and first["WECOM_AES_KEY"].isalnum()


def test_environment_overrides_instance_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-env-" + "k" * 32)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    for name, value in {"WECOM_CORP_ID": "ww0123", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s",
                        "WECOM_TOKEN": "t", "WECOM_AES_KEY": "a" * 43}.items():  # a whole set
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WECOM_API_BASE", "http://127.0.0.1:9/cgi-bin")
    monkeypatch.setenv("WECOM_CALLBACK_MAX_AGE", "0")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env-" + "k" * 32
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite")
    assert app.config["SANDBOX"] is False
    assert app.config["WECOM_API_BASE"] == "http://127.0.0.1:9/cgi-bin"
    assert app.config["WECOM_CALLBACK_MAX_AGE"] == 0


@pytest.mark.parametrize("given, used", [
    ("postgresql://u:p@db.example:5432/dash", "postgresql+psycopg://u:p@db.example:5432/dash"),
    ("postgres://u@db.example/dash", "postgresql+psycopg://u@db.example/dash"),
    ("postgresql+psycopg://u@db.example/dash", "postgresql+psycopg://u@db.example/dash"),
    ("sqlite:////srv/dash.sqlite", "sqlite:////srv/dash.sqlite"),
])
def test_database_url_gets_the_psycopg_driver(monkeypatch, tmp_path, given, used):
    from flask import Flask
    from sqlalchemy.engine import make_url

    from dashboard import config

    monkeypatch.setenv("DATABASE_URL", given)
    monkeypatch.delenv("WECOM_CORP_ID", raising=False)
    app = Flask("dashboard", instance_path=str(tmp_path / "instance"))
    config.load(app)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == used
    assert make_url(used).get_dialect().driver == ("psycopg" if "postgres" in given else "pysqlite")


def test_missing_secret_key_in_production_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("WECOM_CORP_ID", "ww0123")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"WECOM_CORP_ID": "ww0123"})


def test_sandbox_generates_a_secret_key_once(tmp_path):
    first = _sandbox_app(tmp_path)
    second = _sandbox_app(tmp_path)
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def _sandbox_app(tmp_path):
    from flask import Flask

    from dashboard import config

    app = Flask("dashboard", instance_path=str(tmp_path / "instance"))
    config.load(app, {"SECRET_KEY": None})
    return app


def test_csrf_is_on_unless_a_test_switches_it_off(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.post("/login", data={"username": "a", "password": "b"}).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    plain = create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                        "INSTANCE_PATH": str(tmp_path / "plain")})
    assert plain.config.get("WTF_CSRF_ENABLED", True) is True


@pytest.mark.parametrize(("key", "value", "words"), [
    ("DEFAULT_LANGUAGE", "fr", "DEFAULT_LANGUAGE must be zh or en"),
    ("TIMEZONE", "Asia/Shangai", "is not a time zone"),
])
def test_a_mistyped_language_or_time_zone_stops_the_start(tmp_path, key, value, words):
    with pytest.raises(ConfigError, match=words):
        create_app({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path), key: value})
