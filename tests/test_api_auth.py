"""API tokens (account page, CLI), Bearer authentication, roles, the rate limit and JSON errors."""
import io
import json
import re
from datetime import timedelta

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from dashboard.api.auth import MemoryCounter, RateLimiter
from dashboard.extensions import db
from dashboard.models import ApiToken, AuditLog, User, utcnow
from tests.campaign_factories import BUTTON_CARD
from tests.conftest import PASSWORD, make_app
from tests.test_api import issue_token

CARD = {"name": "RSVP", "template_card": BUTTON_CARD}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def created_token(page: str) -> str:
    return re.search(r'id="new-token" value="(wcd_[^"]+)"', page).group(1)


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic c3RhZmY6eA==",
                                    "Bearer wcd_not-a-token", "wcd_no-scheme"])
def test_a_missing_or_bad_token_is_401_json(client, header):
    response = client.get("/api/v1/cards", headers={"Authorization": header} if header is not None else {})
    assert response.status_code == 401 and response.is_json
    assert response.json["error"] == "Unauthorized" and "Bearer" in response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_tokens_and_deactivated_users_are_401(app, client):
    token = issue_token(app, "staff")
    assert client.get("/api/v1/cards", headers=bearer(token)).status_code == 200
    with app.app_context():
        from dashboard.api import service
        service.revoke_token(db.session.scalar(db.select(ApiToken)), actor="test")
        db.session.commit()
    assert client.get("/api/v1/cards", headers=bearer(token)).status_code == 401
    other = issue_token(app, "manager")
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="manager")).active = False
        db.session.commit()
    assert client.get("/api/v1/cards", headers=bearer(other)).status_code == 401


def test_tokens_are_stored_hashed(app):
    token = issue_token(app, "staff")
    with app.app_context():
        row = db.session.scalar(db.select(ApiToken))
        assert row.token_hash == ApiToken.hash(token) and token not in (row.token_hash, row.prefix)


def test_a_session_cookie_is_not_enough_and_the_api_sets_none(app, client, login):
    login("staff")
    assert client.get("/api/v1/cards").status_code == 401
    response = client.get("/api/v1/cards", headers=bearer(issue_token(app, "manager")))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_the_api_acts_with_the_token_owner_even_beside_a_session(app, client, login):
    login("admin")
    response = client.post("/api/v1/cards", json=CARD, headers=bearer(issue_token(app, "staff")))
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(db.select(AuditLog).filter_by(action="card.created")).actor_name == "staff"


def test_the_api_needs_no_csrf_token_when_csrf_is_on(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        from dashboard.auth import service
        service.create_user("staff", "staff", PASSWORD, actor="test")
        db.session.commit()
    response = app.test_client().post("/api/v1/cards", json=CARD, headers=bearer(issue_token(app, "staff")))
    assert response.status_code == 201


def test_last_used_at_is_written_at_most_once_a_minute(app, client):
    token = issue_token(app, "staff")
    client.get("/api/v1/cards", headers=bearer(token))
    with app.app_context():
        first = db.session.scalar(db.select(ApiToken)).last_used_at
    client.get("/api/v1/cards", headers=bearer(token))
    with app.app_context():
        row = db.session.scalar(db.select(ApiToken))
        assert first is not None and row.last_used_at == first
        row.last_used_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    client.get("/api/v1/cards", headers=bearer(token))
    with app.app_context():
        assert db.session.scalar(db.select(ApiToken)).last_used_at > first


# --- roles -------------------------------------------------------------------------------------


WRITES = [("post", "/cards", CARD), ("put", "/cards/1", {"template_card": BUTTON_CARD}),
          ("post", "/campaigns", {"card_id": 1, "name": "x", "recipients": {"users": ["lisi"]}}),
          ("post", "/campaigns/1/send", None), ("post", "/campaigns/1/cancel", None),
          ("post", "/campaigns/1/recall", None), ("post", "/campaigns/1/close-poll", None)]


@pytest.mark.parametrize("method, path, body", WRITES)
def test_managers_get_403_on_writes(app, client, method, path, body):
    response = client.open(f"/api/v1{path}", method=method.upper(), json=body,
                           headers=bearer(issue_token(app, "manager")))
    assert response.status_code == 403 and "manager" in response.json["message"]


def test_managers_read(app, client):
    token = issue_token(app, "manager")
    for path in ("/cards", "/openapi.json"):
        assert client.get(f"/api/v1{path}", headers=bearer(token)).status_code == 200


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"name": "x",}', b"[" * 100_000])
def test_malformed_json_is_400(app, client, body):
    response = client.post("/api/v1/cards", data=body, content_type="application/json",
                           headers=bearer(issue_token(app, "staff")))
    assert response.status_code == 400 and "not valid JSON" in response.json["message"]


def test_a_body_over_the_api_limit_is_413_json(app, client):
    body = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post("/api/v1/cards", data=body, content_type="application/json",
                           headers=bearer(issue_token(app, "staff")))
    assert response.status_code == 413 and "1,048,576 bytes" in response.json["message"]


def test_a_chunked_body_over_the_limit_is_413_too(tmp_path):
    app = make_app(tmp_path, API_MAX_BODY=100)
    with app.app_context():
        from dashboard.auth import service
        service.create_user("staff", "staff", PASSWORD, actor="test")
        db.session.commit()
    environ = EnvironBuilder(path="/api/v1/cards", method="POST", content_type="application/json",
                             headers=bearer(issue_token(app, "staff")),
                             input_stream=io.BytesIO(b"{" + b" " * 500 + b"}")).get_environ()
    del environ["CONTENT_LENGTH"]  # a chunked upload: the server says the stream ends
    environ["wsgi.input_terminated"] = True
    body, status, headers = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("413") and json.loads(b"".join(body))["error"] == "Request Entity Too Large"


def test_unknown_paths_and_methods_are_json(app, client):
    assert client.get("/api/v1/nothing-here").json["error"] == "Not Found"
    response = client.delete("/api/v1/cards", headers=bearer(issue_token(app, "staff")))
    assert response.status_code == 405 and response.is_json


# --- rate limit --------------------------------------------------------------------------------


def test_a_token_over_its_rate_limit_gets_429_with_retry_after(tmp_path):
    app = make_app(tmp_path, API_RATE_LIMIT=3)
    with app.app_context():
        from dashboard.auth import service
        service.create_user("staff", "staff", PASSWORD, actor="test")
        db.session.commit()
    client, first, second = app.test_client(), issue_token(app, "staff"), issue_token(app, "staff")
    assert [client.get("/api/v1/cards", headers=bearer(first)).status_code for _ in range(3)] == [200] * 3
    response = client.get("/api/v1/cards", headers=bearer(first))
    assert response.status_code == 429 and "Retry in" in response.json["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/cards", headers=bearer(second)).status_code == 200


def test_the_limiter_counts_per_key_and_window():
    now = [1000.0]
    limiter = RateLimiter(2, 60, MemoryCounter(), clock=lambda: now[0])
    assert [limiter.retry_after("a") for _ in range(3)] == [None, None, 20]  # window ends at 1020
    assert limiter.retry_after("b") is None
    now[0] = 1020.5
    assert limiter.retry_after("a") is None
    assert RateLimiter(0, 60, MemoryCounter()).retry_after("a") is None  # 0 turns it off


# --- the account page and the CLI --------------------------------------------------------------


def test_create_a_token_see_it_once_use_it_and_revoke_it(app, client, login):
    login("manager")
    response = client.post("/account/tokens", data={"name": "Reporting"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = created_token(response.get_data(as_text=True))
    page = client.get("/account/tokens").get_data(as_text=True)
    assert token not in page and token[:10] in page and "Reporting" in page
    assert client.get("/api/v1/cards", headers=bearer(token)).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken)).id
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/cards", headers=bearer(token)).status_code == 401
    with app.app_context():
        actions = db.session.scalars(db.select(AuditLog.action).where(AuditLog.action.like("api_token%")))
        assert list(actions) == ["api_token_created", "api_token_revoked"]


def test_nobody_revokes_someone_elses_token(app, client, login):
    token = issue_token(app, "staff")
    login("admin")
    assert client.post("/account/tokens/1/revoke").status_code == 404
    assert client.get("/api/v1/cards", headers=bearer(token)).status_code == 200


def test_the_token_forms_keep_csrf(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        from dashboard.auth import service
        service.create_user("staff", "staff", PASSWORD, actor="test")
        db.session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": csrf})
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 400
    ok = client.post("/account/tokens", data={"name": "x", "csrf_token": csrf})
    assert created_token(ok.get_data(as_text=True))


def test_the_account_page_needs_a_login(client):
    response = client.get("/account/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_cli_prints_a_new_token_once(app, runner, client):
    result = runner.invoke(args=["tokens", "create", "staff", "--name", "CI pipeline"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("wcd_") and "\n" not in token
    assert client.get("/api/v1/cards", headers=bearer(token)).status_code == 200
    with app.app_context():
        row = db.session.scalar(db.select(ApiToken))
        assert row.name == "CI pipeline" and row.user.username == "staff"
        assert db.session.scalar(db.select(AuditLog).filter_by(action="api_token_created")).actor_name == "cli"
    assert runner.invoke(args=["tokens", "create", "nobody"]).exit_code == 1
