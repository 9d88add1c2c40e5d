"""Issue 28 point 6: the configuration refuses unsafe values at start, saying what to set; with no
WeCom credential at all the app is the sandbox, as before, and says so in the log."""
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from dashboard import config
from dashboard.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "systemd" / "dashboard.env.example"
STRONG = "0123456789abcdef" * 4
WHOLE_SET = {"WECOM_CORP_ID": "ww0123456789abcdef", "WECOM_AGENT_ID": "1000002",
             "WECOM_SECRET": "real-secret", "WECOM_TOKEN": "real-token", "WECOM_AES_KEY": "a" * 43}


def example_file() -> dict[str, str]:
    """The variables the example env file sets, as systemd's EnvironmentFile reads them."""
    lines = [line for line in EXAMPLE.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def start(tmp_path, monkeypatch):
    """start(**environment): load the configuration as a real start does (no TESTING)."""
    for name in config.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)

    def load(**environment):
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        app = Flask("dashboard", instance_path=str(tmp_path / "instance"))
        config.load(app)
        return app.config

    return load


def test_the_example_env_file_as_shipped_is_refused_naming_everything_to_fill_in(start):
    with pytest.raises(ConfigError) as refused:
        start(**example_file())
    message = str(refused.value)
    assert "SECRET_KEY is the example file's placeholder" in message
    assert "secrets.token_hex(32)" in message
    assert "fill in WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN, WECOM_AES_KEY" in message
    assert "set but empty" in message and "sandbox mode" in message


def test_a_real_start_with_the_example_file_stops_with_the_message(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if k not in config.ENVIRONMENT}, **example_file(),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    done = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "ConfigError" in done.stderr and "placeholder" in done.stderr and "WECOM_CORP_ID" in done.stderr


def test_the_placeholder_key_is_refused_even_with_a_whole_wecom_set(start):
    with pytest.raises(ConfigError, match="placeholder"):
        start(SECRET_KEY=example_file()["SECRET_KEY"], **WHOLE_SET)


@pytest.mark.parametrize("key", ["short", "x" * 31, "密钥" * 5])  # the last: 30 bytes in 10 characters
def test_keys_under_32_bytes_are_refused(start, key):
    with pytest.raises(ConfigError, match=rf"SECRET_KEY has {len(key.encode())} bytes.*SECRET_KEY"):
        start(SECRET_KEY=key, **WHOLE_SET)


def test_a_key_of_32_random_bytes_or_more_starts(start):
    assert start(SECRET_KEY=STRONG, **WHOLE_SET)["SECRET_KEY"] == STRONG
    assert not start(SECRET_KEY="k" * 32, **WHOLE_SET)["SANDBOX"]


def test_tests_may_use_a_short_key_but_never_the_placeholder(tmp_path):
    app = Flask("dashboard", instance_path=str(tmp_path / "instance"))
    app.testing = True
    config.load(app, {"SECRET_KEY": "x"})
    with pytest.raises(ConfigError, match="placeholder"):
        config.load(app, {"SECRET_KEY": example_file()["SECRET_KEY"]})


def test_a_missing_key_outside_the_sandbox_says_how_to_make_one(start):
    with pytest.raises(ConfigError, match=r"SECRET_KEY is not set\. Set the SECRET_KEY"):
        start(**WHOLE_SET)


@pytest.mark.parametrize("blank", ["WECOM_CORP_ID", "WECOM_AES_KEY"])
def test_one_empty_credential_is_refused_not_taken_for_sandbox_mode(start, blank):
    with pytest.raises(ConfigError) as refused:
        start(SECRET_KEY=STRONG, **{**WHOLE_SET, blank: ""})
    assert f"fill in {blank} ({blank} set but empty)" in str(refused.value)


def test_an_empty_credential_alone_is_refused_too(start):
    with pytest.raises(ConfigError, match=r"\(WECOM_CORP_ID set but empty\)"):
        start(SECRET_KEY=STRONG, WECOM_CORP_ID="  ")


def test_an_empty_credential_in_the_instance_file_is_refused(tmp_path, monkeypatch):
    for name in config.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config.py").write_text(f"SECRET_KEY = {STRONG!r}\nWECOM_CORP_ID = ''\n")
    app = Flask("dashboard", instance_path=str(tmp_path), instance_relative_config=True)
    with pytest.raises(ConfigError, match="WECOM_CORP_ID set but empty"):
        config.load(app)


@pytest.mark.parametrize("given, missing", [
    (["WECOM_CORP_ID"], "WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN, WECOM_AES_KEY"),
    (["WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET"], "WECOM_TOKEN, WECOM_AES_KEY"),
    (["WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_AGENT_ID"], "WECOM_CORP_ID"),
])
def test_a_partial_set_names_what_to_fill_in(start, given, missing):
    with pytest.raises(ConfigError) as refused:
        start(SECRET_KEY=STRONG, **{name: WHOLE_SET[name] for name in given})
    assert f"fill in {missing} with your self-built app's values" in str(refused.value)
    assert "set but empty" not in str(refused.value)


def test_every_problem_is_named_at_once(start):
    with pytest.raises(ConfigError) as refused:
        start(SECRET_KEY="short", WECOM_CORP_ID="ww0123", TIMEZONE="Asia/Shangai")
    assert [line.split(" ")[0] for line in str(refused.value).splitlines()] == ["WeCom", "SECRET_KEY", "TIMEZONE"]


def test_with_no_credential_at_all_the_app_is_the_sandbox_and_logs_it(start, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.config")
    settings = start()
    assert settings["SANDBOX"] and settings["WECOM_API_BASE"].endswith("/sandbox/cgi-bin")
    assert len(settings["SECRET_KEY"]) == 64  # generated and kept, as before
    assert any(record.getMessage().startswith("sandbox mode: no WECOM_CORP_ID") for record in caplog.records)


def test_a_whole_set_is_a_real_wecom_app_and_logs_no_sandbox(start, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.config")
    settings = start(SECRET_KEY=STRONG, **WHOLE_SET)
    assert not settings["SANDBOX"] and settings["WECOM_API_BASE"] == "https://qyapi.weixin.qq.com/cgi-bin"
    assert not any("sandbox mode" in record.getMessage() for record in caplog.records)
