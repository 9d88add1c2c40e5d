"""Issue 28 point 5: API tokens expire, may be read-only, show their last use, die with a
deactivation or a new password, and admins list and revoke anyone's. The API is called over real
HTTP (the Authorization header is what matters)."""
import re
import threading
from datetime import timedelta

import pytest
import requests
from werkzeug.serving import make_server

from dashboard.extensions import db
from dashboard.models import ApiToken, AuditLog, User, utcnow
from tests.campaign_factories import BUTTON_CARD
from tests.test_api import issue_token

CARD = {"name": "RSVP", "template_card": BUTTON_CARD}


@pytest.fixture
def api(app):
    """api(method, path, token, **kwargs): a request to the app served on a loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/api/v1"

    def call(method, path, token, **kwargs):
        return requests.request(method, base + path, headers={"Authorization": f"Bearer {token}"},
                                timeout=10, **kwargs)

    yield call
    server.shutdown()


def created(page: str) -> str:
    return re.search(r'id="new-token" value="(wcd_[^"]+)"', page).group(1)


def only_token(app) -> ApiToken:
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken))
        db.session.expunge(token)
        return token


def set_token(app, **values) -> None:
    with app.app_context():
        db.session.execute(db.update(ApiToken).values(**values))
        db.session.commit()


# --- expiry ------------------------------------------------------------------------------------


def test_a_token_made_on_the_page_expires_after_its_days(app, client, login, api):
    login("staff")
    token = created(client.post("/account/tokens", data={"name": "HR", "expires_in": "7"}).text)
    row = only_token(app)
    assert timedelta(days=7) - timedelta(minutes=1) < row.expires_at - utcnow() <= timedelta(days=7)
    assert api("GET", "/cards", token).status_code == 200
    assert "until" in client.get("/account/tokens").text
    set_token(app, expires_at=utcnow() - timedelta(seconds=1))
    response = api("GET", "/cards", token)
    assert response.status_code == 401 and "expired" in response.json()["message"]
    assert "expired" in client.get("/account/tokens").text


@pytest.mark.parametrize("days", ["0", "-3", "3651", "soon"])
def test_the_page_refuses_an_expiry_out_of_range(app, client, login, days):
    login("staff")
    assert "new-token" not in client.post("/account/tokens", data={"name": "x", "expires_in": days}).text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 0


def test_without_days_a_token_never_expires(app, client, login):
    login("staff")
    client.post("/account/tokens", data={"name": "CI", "expires_in": ""})
    assert only_token(app).expires_at is None


def test_the_cli_sets_expiry_and_scope(app, runner, api):
    result = runner.invoke(args=["tokens", "create", "staff", "--expires-in", "30", "--scope", "read"])
    assert result.exit_code == 0, result.output
    row = only_token(app)
    assert (row.scope, (row.expires_at - utcnow()).days) == ("read", 29)
    assert "scope read" in result.stderr and "expires" in result.stderr
    assert api("GET", "/cards", result.stdout.strip()).status_code == 200
    assert runner.invoke(args=["tokens", "create", "staff", "--expires-in", "0"]).exit_code == 2
    assert runner.invoke(args=["tokens", "create", "staff", "--scope", "write"]).exit_code == 2


# --- scope -------------------------------------------------------------------------------------


def test_a_read_only_token_reads_and_gets_403_json_on_writes(app, client, login, api):
    login("staff")
    token = created(client.post("/account/tokens", data={"name": "Reports", "scope": "read"}).text)
    assert api("GET", "/cards", token).status_code == 200
    for method, path, body in [("POST", "/cards", CARD), ("PUT", "/cards/1", CARD),
                               ("POST", "/campaigns/1/send", None)]:
        response = api(method, path, token, json=body)
        assert response.status_code == 403, (method, path)
        assert "read-only" in response.json()["message"] and response.json()["scope"] == "read"
    assert "read only" in client.get("/account/tokens").text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditLog).filter_by(
            action="card.created")) == 0


def test_a_full_token_of_the_same_user_writes(app, api):
    assert api("POST", "/cards", issue_token(app, "staff"), json=CARD).status_code == 201


# --- last used ---------------------------------------------------------------------------------


def test_the_page_shows_when_a_token_was_last_used(app, client, login, api):
    login("manager")
    token = created(client.post("/account/tokens", data={"name": "BI"}).text)
    row = client.get("/account/tokens").text.split("<tbody>")[1].split("</tr>")[0]
    assert "never" in row
    api("GET", "/cards", token)
    used = only_token(app).last_used_at
    assert used is not None and utcnow() - used < timedelta(seconds=30)
    api("GET", "/cards", token)
    assert only_token(app).last_used_at == used  # once a minute at most
    row = client.get("/account/tokens").text.split("<tbody>")[1].split("</tr>")[0]
    assert "never" not in row


# --- deactivation and a new password -----------------------------------------------------------


def edit_user(client, app, username, **form):
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).filter_by(username=username))
    data = {"role": username, "active": "y", "password": "", "revoke_tokens": "y", **form}
    return client.post(f"/users/{user_id}", data={k: v for k, v in data.items() if v is not None})


def test_deactivation_revokes_every_token_for_good(app, client, login, api):
    tokens = [issue_token(app, "staff"), issue_token(app, "staff")]
    login("admin")
    assert edit_user(client, app, "staff", active=None, revoke_tokens=None).status_code == 302
    assert edit_user(client, app, "staff").status_code == 302  # active again
    assert [api("GET", "/cards", token).status_code for token in tokens] == [401, 401]
    with app.app_context():
        change = db.session.scalars(db.select(AuditLog).filter_by(action="user_changed")
                                    .order_by(AuditLog.id)).first()  # the deactivation, not the return
        assert change.details["api_tokens_revoked"] == 2 and change.actor_name == "admin"


def test_a_new_password_revokes_the_tokens_when_the_box_stays_checked(app, client, login, api):
    token = issue_token(app, "staff")
    login("admin")
    page = client.get("/users/2").text
    assert re.search(r'<input[^>]*checked[^>]*name="revoke_tokens"|name="revoke_tokens"[^>]*checked', page)
    edit_user(client, app, "staff", password="another-long-password")
    assert api("GET", "/cards", token).status_code == 401


def test_a_new_password_keeps_the_tokens_when_the_box_is_cleared(app, client, login, api):
    token = issue_token(app, "staff")
    login("admin")
    edit_user(client, app, "staff", password="another-long-password", revoke_tokens=None)
    assert api("GET", "/cards", token).status_code == 200
    edit_user(client, app, "staff", revoke_tokens="y")  # no new password: the box does nothing
    assert api("GET", "/cards", token).status_code == 200


def test_the_cli_password_command_revokes_the_tokens(app, runner, api):
    token = issue_token(app, "staff")
    assert runner.invoke(args=["users", "password", "staff", "--password", "another-long-pw"]).exit_code == 0
    assert api("GET", "/cards", token).status_code == 401


# --- the admins' page --------------------------------------------------------------------------


def test_admins_list_every_users_tokens_and_revoke_any(app, client, login, api):
    staff, manager = issue_token(app, "staff"), issue_token(app, "manager")
    login("admin")
    page = client.get("/account/tokens/all").text
    assert staff[:10] in page and manager[:10] in page and staff not in page
    assert "/account/tokens/all" in client.get("/account/tokens").text  # linked for admins
    with app.app_context():
        staff_id = db.session.scalar(db.select(ApiToken.id).join(User).filter(User.username == "staff"))
    assert client.post(f"/account/tokens/all/{staff_id}/revoke").status_code == 302
    assert (api("GET", "/cards", staff).status_code, api("GET", "/cards", manager).status_code) == (401, 200)
    with app.app_context():
        revoked = db.session.scalar(db.select(AuditLog).filter_by(action="api_token_revoked"))
        assert (revoked.actor_name, revoked.details["user"]) == ("admin", "staff")
    assert "revoked" in client.get("/account/tokens/all").text


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_only_admins_see_or_revoke_other_peoples_tokens(app, client, login, api, role):
    token = issue_token(app, "admin")
    login(role)
    assert client.get("/account/tokens/all").status_code == 403
    assert client.post("/account/tokens/all/1/revoke").status_code == 403
    assert "/account/tokens/all" not in client.get("/account/tokens").text
    assert api("GET", "/cards", token).status_code == 200
