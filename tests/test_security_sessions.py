"""Issue 28, point 1: sessions that can be ended, over real HTTP with real cookies.

A copy of a browser's cookies taken while it was signed in (the session cookie, the "Keep me
signed in" cookie, or both) must stop working at sign-out, a new password, deactivation, a role
change, "sign out everywhere" and an admin's "end sessions".
"""
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import requests
from werkzeug.serving import make_server

from dashboard.auth.service import create_user
from dashboard.extensions import db
from dashboard.models import User, UserSession, utcnow
from tests.conftest import PASSWORD, make_app
from tests.servers import free_port

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
WECOM = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh")


@pytest.fixture
def site(tmp_path):
    """The app served over loopback with an admin and a staff member; yields (app, base URL)."""
    with served(make_app(tmp_path)) as app_and_base:
        yield app_and_base


@contextmanager
def served(app):
    with app.app_context():
        for role in ("admin", "staff"):
            create_user(role, role, PASSWORD, actor="test")
        db.session.commit()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


def signed_in(base, username, *, remember=True, agent=FIREFOX) -> requests.Session:
    browser = requests.Session()
    browser.headers["User-Agent"] = agent
    response = browser.post(f"{base}/login", allow_redirects=False,
                            data={"username": username, "password": PASSWORD, "remember": "y" if remember else ""})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    return browser


def opens(base, cookies: dict, path="/account/tokens") -> bool:
    """Whether a fresh client holding only these cookies gets the page (not the login page)."""
    response = requests.get(f"{base}{path}", cookies=cookies, allow_redirects=False, timeout=10)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def copies(browser) -> dict[str, dict]:
    cookies = dict(browser.cookies)
    assert set(cookies) == {"session", "remember_token"}
    return {"both": cookies, "session": {"session": cookies["session"]},
            "remember": {"remember_token": cookies["remember_token"]}}


def user_id(app, username):
    with app.app_context():
        return db.session.scalar(db.select(User.id).filter_by(username=username))


def sign_out(base, app, victim):
    victim.post(f"{base}/logout")


def new_password(base, app, victim):
    admin = signed_in(base, "admin")
    admin.post(f"{base}/users/{user_id(app, 'staff')}", data={"role": "staff", "active": "y",
                                                             "password": "a-new-long-password"})


def deactivation(base, app, victim):
    signed_in(base, "admin").post(f"{base}/users/{user_id(app, 'staff')}", data={"role": "staff"})


def role_change(base, app, victim):
    signed_in(base, "admin").post(f"{base}/users/{user_id(app, 'staff')}",
                                  data={"role": "manager", "active": "y"})


def everywhere(base, app, victim):
    victim.post(f"{base}/account/sign-out-everywhere")


def admin_ends_them(base, app, victim):
    signed_in(base, "admin").post(f"{base}/users/{user_id(app, 'staff')}/end-sessions")


@pytest.mark.parametrize("end", [sign_out, new_password, deactivation, role_change, everywhere, admin_ends_them])
def test_every_copy_of_an_old_cookie_stops_working(site, end):
    app, base = site
    victim = signed_in(base, "staff")
    copied = copies(victim)
    assert all(opens(base, cookies) for cookies in copied.values())
    end(base, app, victim)
    assert {kind: opens(base, cookies) for kind, cookies in copied.items()} == dict.fromkeys(copied, False)
    assert not opens(base, dict(victim.cookies))


def test_an_old_remember_cookie_is_refused_after_sign_out_and_a_new_password(site):
    """The issue's own report: sign out, an admin sets a new password, the copied remember
    cookie used to open /account/tokens (200)."""
    app, base = site
    remember = copies(signed_in(base, "staff"))["remember"]
    victim = signed_in(base, "staff")
    sign_out(base, app, victim)
    new_password(base, app, victim)
    assert not opens(base, remember)


def test_the_account_page_lists_sign_ins_and_ends_them_everywhere(site):
    app, base = site
    phone = signed_in(base, "staff", agent=WECOM, remember=False)
    laptop = signed_in(base, "staff")
    page = laptop.get(f"{base}/account").text
    assert "staff" in page and "Firefox · Windows" in page and "WeCom · iOS" in page
    assert page.count("127.0.0.1") == 2 and page.count(">this one</span>") == 1
    this_row = page.split(">this one</span>")[0].rsplit("<tr>", 1)[1]
    assert "Firefox" in this_row
    assert 'href="/account"' in page  # the user menu links the page
    laptop.post(f"{base}/account/sign-out-everywhere")
    assert not opens(base, dict(phone.cookies), "/account") and not opens(base, dict(laptop.cookies), "/account")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(UserSession)) == 0
    assert opens(base, dict(signed_in(base, "staff").cookies))  # signing in again works


def test_the_admin_ends_one_users_sessions_and_no_one_elses(site):
    app, base = site
    staff, admin = signed_in(base, "staff"), signed_in(base, "admin")
    users_page = admin.get(f"{base}/users").text
    assert f'action="/users/{user_id(app, "staff")}/end-sessions"' in users_page
    response = admin.post(f"{base}/users/{user_id(app, 'staff')}/end-sessions")
    assert "Every sign-in of staff is ended." in response.text
    assert not opens(base, dict(staff.cookies)) and opens(base, dict(admin.cookies), "/users")


def test_a_sign_in_whose_row_is_gone_is_refused_though_its_token_holds(site):
    app, base = site
    first, second = signed_in(base, "staff", remember=False), signed_in(base, "staff", remember=False)
    with app.app_context():
        oldest = db.session.scalar(db.select(UserSession).order_by(UserSession.created_at))
        db.session.delete(oldest)
        db.session.commit()
    assert not opens(base, dict(first.cookies)) and opens(base, dict(second.cookies))


def test_a_used_sign_in_slides_on_and_its_cookie_is_signed_again(site):
    app, base = site
    browser = signed_in(base, "staff", remember=False)
    earlier = utcnow() - timedelta(minutes=5)
    with app.app_context():
        db.session.execute(db.update(UserSession).values(last_seen_at=earlier))
        db.session.commit()
    response = browser.get(f"{base}/account")
    assert response.status_code == 200 and "session=" in response.headers.get("Set-Cookie", "")
    with app.app_context():
        assert db.session.scalar(db.select(UserSession.last_seen_at)) > earlier
    again = browser.get(f"{base}/account")  # seen a moment ago: no write, no new cookie
    assert "Set-Cookie" not in again.headers


def test_an_idle_session_ends_and_keep_me_signed_in_starts_a_new_sign_in(tmp_path):
    with served(make_app(tmp_path, SESSION_HOURS=1 / 3600)) as (app, base):  # one second
        plain, remembered = signed_in(base, "staff", remember=False), signed_in(base, "staff")
        time.sleep(2.1)
        assert not opens(base, dict(plain.cookies))
        assert opens(base, dict(remembered.cookies))
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count()).select_from(UserSession)) == 3


def test_keep_me_signed_in_lasts_remember_days(tmp_path):
    with served(make_app(tmp_path, REMEMBER_DAYS=3)) as (app, base):
        browser = signed_in(base, "staff")
        expires = next(cookie.expires for cookie in browser.cookies if cookie.name == "remember_token")
        days = (expires - utcnow().timestamp()) / 86400
        assert 2.9 < days <= 3 and app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
