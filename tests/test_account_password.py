"""Issue 28, points 1 and 5: people change their own password on /account. The current password
is asked for (under the login throttle); every other sign-in ends, over real HTTP with real
cookies, while this browser stays signed in; the API tokens are revoked unless "Also revoke my API
tokens" is unticked."""
import re
import threading

import pytest
import requests
from werkzeug.serving import make_server

from dashboard.extensions import db
from dashboard.models import AuditLog, User, UserSession
from tests.conftest import PASSWORD, make_app
from tests.test_api import issue_token
from tests.test_security_sessions import copies, opens, served, signed_in

NEW = "a-brand-new-long-password"
ATTACKER = "203.0.113.9"


@pytest.fixture
def site(tmp_path):
    with served(make_app(tmp_path)) as app_and_base:
        yield app_and_base


def change(browser, base, current=PASSWORD, new=NEW, confirm=None, revoke="y") -> requests.Response:
    data = {"current_password": current, "password": new, "confirm": new if confirm is None else confirm}
    if revoke:
        data["revoke_tokens"] = revoke
    return browser.post(f"{base}/account/password", data=data, allow_redirects=False)


def api_status(base, token) -> int:
    return requests.get(f"{base}/api/v1/cards", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def password_works(base, username, password) -> bool:
    response = requests.post(f"{base}/login", data={"username": username, "password": password},
                             allow_redirects=False, timeout=10)
    return response.status_code == 302


def audits(app, action) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(AuditLog).filter_by(action=action))


@pytest.mark.parametrize("remember", [True, False])
def test_a_new_password_ends_every_other_sign_in_and_keeps_this_one(site, remember):
    app, base = site
    elsewhere = copies(signed_in(base, "staff"))
    browser = signed_in(base, "staff", remember=remember)
    before = dict(browser.cookies)
    response = change(browser, base)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert {kind: opens(base, cookies) for kind, cookies in elsewhere.items()} == dict.fromkeys(elsewhere, False)
    assert not opens(base, before)  # a copy of this browser's own cookies, taken before, dies too
    assert opens(base, dict(browser.cookies), "/account")  # this browser signed in again
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(UserSession)) == 1
    assert ("remember_token" in browser.cookies) is remember  # as it was: kept signed in or not
    if remember:  # the new remember cookie carries the new token
        assert opens(base, {"remember_token": browser.cookies["remember_token"]})
    assert password_works(base, "staff", NEW) and not password_works(base, "staff", PASSWORD)


def test_the_box_is_ticked_by_default_and_revokes_the_api_tokens(site):
    app, base = site
    token = issue_token(app, "staff")
    browser = signed_in(base, "staff")
    page = browser.get(f"{base}/account").text
    assert re.search(r'<input[^>]*checked[^>]*name="revoke_tokens"|name="revoke_tokens"[^>]*checked', page)
    assert "Also revoke my API tokens" in page and 'action="/account/password"' in page
    response = change(browser, base)
    assert "your API tokens are revoked" in browser.get(f"{base}{response.headers['Location']}").text
    assert api_status(base, token) == 401
    with app.app_context():
        changed = db.session.scalar(db.select(AuditLog).filter_by(action="user_changed"))
        assert changed.actor_name == "staff" and changed.details["api_tokens_revoked"] == 1


def test_unticked_the_api_tokens_keep_working(site):
    app, base = site
    token = issue_token(app, "staff")
    browser = signed_in(base, "staff")
    response = change(browser, base, revoke="")
    assert "your API tokens are revoked" not in browser.get(f"{base}{response.headers['Location']}").text
    assert api_status(base, token) == 200 and password_works(base, "staff", NEW)


@pytest.mark.parametrize("current, new, confirm, words", [
    ("not-my-password", NEW, None, "That is not your current password."),
    ("", NEW, None, "This field is required."),
    (PASSWORD, "short", None, "At least 10 characters."),
    (PASSWORD, NEW, NEW + "x", "The two new passwords differ."),
])
def test_a_refused_change_changes_nothing_and_says_why(site, current, new, confirm, words):
    app, base = site
    token = issue_token(app, "staff")
    elsewhere = signed_in(base, "staff")
    browser = signed_in(base, "staff")
    response = change(browser, base, current, new, confirm)
    assert response.status_code == 422 and words in response.text
    assert password_works(base, "staff", PASSWORD) and not password_works(base, "staff", new)
    assert opens(base, dict(elsewhere.cookies)) and opens(base, dict(browser.cookies))
    assert api_status(base, token) == 200


def test_guessing_the_current_password_is_throttled_as_signing_in_is(tmp_path):
    """A borrowed session cannot guess the password faster than the login page: the same
    counters, the same lock, and the lock's words."""
    app = make_app(tmp_path, LOGIN_REFUSE_AFTER=3, LOGIN_SLOW_SECONDS=0.01, LOGIN_SLOW_MAX=0.02)
    with served(app) as (app, base):
        browser = signed_in(base, "staff")
        for n in range(3):
            assert "That is not your current password." in change(browser, base, f"guess-{n}").text
        locked = change(browser, base, PASSWORD)  # right, but the 4th attempt: not checked
        assert locked.status_code == 422 and "Too many attempts; try again in 15 minutes." in locked.text
        assert not password_works(base, "staff", NEW)
        assert audits(app, "password_change_failed") == 3 and audits(app, "password_change_refused") == 1


def test_the_form_works_with_csrf_protection(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with served(app) as (app, base):
        browser = requests.Session()
        login_page = browser.get(f"{base}/login").text
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        browser.post(f"{base}/login", data={"csrf_token": csrf, "username": "staff", "password": PASSWORD})
        assert change(browser, base).status_code == 400  # no CSRF token: refused
        account = browser.get(f"{base}/account").text
        form = account.split('action="/account/password"')[1].split("</form>")[0]
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        response = browser.post(f"{base}/account/password", allow_redirects=False, data={
            "csrf_token": csrf, "current_password": PASSWORD, "password": NEW, "confirm": NEW,
            "revoke_tokens": "y"})
        assert response.status_code == 302
        with app.app_context():
            assert db.session.scalar(db.select(User).filter_by(username="staff")).check_password(NEW)


def test_the_wecom_userid_form_refused_keeps_the_password_box_ticked(client, login):
    """Two forms on one page: a refused post of one must not read its fields into the other."""
    login("staff")
    page = client.post("/account/wecom-userid", data={"wecom_userid": "bad id!"}).get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="revoke_tokens"|name="revoke_tokens"[^>]*checked', page)


def test_an_admin_changing_their_own_password_stays_an_admin(site):
    app, base = site
    browser = signed_in(base, "admin")
    assert change(browser, base).status_code == 302
    assert opens(base, dict(browser.cookies), "/users")
    with app.app_context():
        assert db.session.scalar(db.select(User.role).filter_by(username="admin")) == "admin"
