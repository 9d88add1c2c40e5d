"""API tokens through the API (issue 28, point 5): a token of one's own with an expiry and a scope,
the list with the calling token marked, revoking; read-only tokens cannot make tokens."""
from datetime import datetime, timedelta, timezone

from dashboard.extensions import db
from dashboard.models import ApiToken, AuditLog
from tests.test_api import api, issue_token  # noqa: F401  (fixture)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_made_through_the_api_expires_when_asked_and_works_once_shown(app, api, client):
    made = api("post", "/tokens", json={"name": "nightly export", "scope": "read", "expires_in_days": 7})
    assert made.status_code == 201, made.json
    body = made.json
    assert body["token"].startswith("wcd_") and body["scope"] == "read" and body["current"] is False
    expires = datetime.fromisoformat(body["expires_at"]).replace(tzinfo=timezone.utc)
    assert timedelta(days=6, hours=23) < expires - datetime.now(timezone.utc) <= timedelta(days=7)
    listed = client.get("/api/v1/tokens", headers=bearer(body["token"])).json["items"]
    mine = {t["name"]: t for t in listed}
    assert mine["nightly export"]["current"] is True and "token" not in mine["nightly export"]
    assert mine["test"]["current"] is False
    with app.app_context():
        assert db.session.scalar(db.select(AuditLog.action).filter_by(action="api_token_created")
                                 .order_by(AuditLog.id.desc()).limit(1)) == "api_token_created"


def test_without_an_expiry_a_token_works_until_revoked(api):
    body = api("post", "/tokens", json={"name": "ci"}).json
    assert body["expires_at"] is None and body["scope"] == "full"


def test_a_read_only_token_cannot_make_or_revoke_tokens(app, api, client):
    reader = api("post", "/tokens", json={"name": "reader", "scope": "read"}).json
    refused = client.post("/api/v1/tokens", json={"name": "more"}, headers=bearer(reader["token"]))
    assert refused.status_code == 403 and refused.json["scope"] == "read"
    assert client.delete(f"/api/v1/tokens/{reader['id']}", headers=bearer(reader["token"])).status_code == 403


def test_bad_requests_name_the_field(api):
    for body, path in (({"name": "x", "expires_in_days": 0}, "expires_in_days"),
                       ({"name": "x", "expires_in_days": 4000}, "expires_in_days"),
                       ({"name": "x", "scope": "admin"}, "scope"), ({"name": "  "}, "name"), ({}, "name")):
        answer = api("post", "/tokens", json=body)
        assert answer.status_code == 422 and path in {e["path"] for e in answer.json["errors"]}, (body, answer.json)


def test_revoking_stops_the_token_at_once_and_only_ones_own_can_be_revoked(app, api, client):
    other = api("post", "/tokens", json={"name": "old"}).json
    assert client.get("/api/v1/tokens", headers=bearer(other["token"])).status_code == 200
    revoked = api("delete", f"/tokens/{other['id']}")
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert client.get("/api/v1/tokens", headers=bearer(other["token"])).status_code == 401
    managers = issue_token(app, "manager")
    with app.app_context():
        manager_token_id = db.session.scalars(db.select(ApiToken.id).order_by(ApiToken.id.desc())).first()
    assert api("delete", f"/tokens/{manager_token_id}").status_code == 404  # staff's token api: not theirs
    assert client.get("/api/v1/tokens", headers=bearer(managers)).status_code == 200
