import pytest

from dashboard.extensions import db
from dashboard.models import AuditLog
from tests.conftest import make_app


def test_every_page_carries_the_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_https_turns_on_hsts_and_secure_cookies(tmp_path):
    app = make_app(tmp_path, PREFERRED_URL_SCHEME="https")
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_no_template_has_inline_script(app):
    import pathlib
    import re

    root = pathlib.Path(app.root_path) / "templates"
    inline = [
        str(path.relative_to(root)) for path in root.rglob("*.html")
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", path.read_text())
        or re.search(r"\son[a-z]+\s*=\s*[\"']", path.read_text())
    ]
    assert inline == []


@pytest.mark.parametrize("proxies, seen", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_forwarded_addresses_are_believed_only_behind_trusted_proxies(tmp_path, proxies, seen):
    app = make_app(tmp_path, TRUSTED_PROXIES=proxies)
    app.test_client().post("/login", data={"username": "nobody", "password": "wrong-password"},
                           headers={"X-Forwarded-For": "203.0.113.9"})
    with app.app_context():
        row = db.session.scalar(db.select(AuditLog).filter_by(action="login_failed"))
        assert row.details["source"] == seen
