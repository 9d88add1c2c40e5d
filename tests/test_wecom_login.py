"""Sign in with WeCom (issue 19, points 1, 2, 3, 4 and 7): both ways in (WeCom's own browser and a
browser with the QR code), the state and the code, the user a member signs in as, refusals that
say what to do, the audit log, the throttle, the session renewed, no code in a log, the CLI's
--wecom-userid and the password-login switch. WeCom is the fake over real HTTP."""
import logging
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from dashboard.auth import service as auth_service
from dashboard.auth import wecom_login
from dashboard.extensions import db
from dashboard.models import AuditLog, User, UserSession
from tests.campaign_factories import wired
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom

IN_WECOM = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh")
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
DASHBOARD = "https://dash.example.com"


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake, DASHBOARD_URL=DASHBOARD) as app:
        yield app


def link(app, username, userid, *, password_login=True):
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username=username))
        user.wecom_userid, user.password_login = userid, password_login
        db.session.commit()


def start(client, next=None, agent=DESKTOP):
    """GET /auth/wecom; (the redirect's address without its query, its query, its fragment)."""
    response = client.get("/auth/wecom", query_string={"next": next} if next else {},
                          headers={"User-Agent": agent})
    assert response.status_code == 302
    url = urlsplit(response.headers["Location"])
    return f"{url.scheme}://{url.netloc}{url.path}", {k: v[0] for k, v in parse_qs(url.query).items()}, url.fragment


def come_back(client, code, state):
    query = {k: v for k, v in {"code": code, "state": state}.items() if v is not None}
    return client.get("/auth/wecom/callback", query_string=query)


def sign_in(client, fake, userid, next=None, agent=DESKTOP):
    """The whole way: to WeCom and back with a code for userid; the callback's answer."""
    state = start(client, next, agent)[1]["state"]
    return come_back(client, fake.issue_login_code(userid), state)


def whoami(client) -> str | None:
    """The signed-in user's name, None when signed out."""
    response = client.get("/account")
    if response.status_code != 200:
        return None
    return response.get_data(as_text=True).split("<dt>Username</dt><dd>")[1].split("</dd>")[0]


def audits(app, action) -> list[dict]:
    with app.app_context():
        return [{"actor": row.actor_name, **(row.details or {})} for row in
                db.session.scalars(db.select(AuditLog).filter_by(action=action).order_by(AuditLog.id))]


def refused(response, status, reason):
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:300]
    assert "Sign-in with WeCom did not work" in page and f'data-reason="{reason}"' in page
    return page


# --- the two ways in ---


def test_in_wecom_the_silent_oauth_page(app, client):
    base, query, fragment = start(client, "/reports/", agent=IN_WECOM)
    assert base == "https://open.weixin.qq.com/connect/oauth2/authorize" and fragment == "wechat_redirect"
    state = query.pop("state")
    assert query == {"appid": "wwfakecorp0001", "redirect_uri": f"{DASHBOARD}/auth/wecom/callback",
                     "response_type": "code", "scope": "snsapi_base", "agentid": "1000002"}
    assert len(state) >= 32
    location = client.get("/auth/wecom", headers={"User-Agent": IN_WECOM}).headers["Location"]
    assert list(parse_qs(urlsplit(location).query)) == [  # in the order WeCom's docs write them
        "appid", "redirect_uri", "response_type", "scope", "state", "agentid"]
    assert "redirect_uri=https%3A%2F%2Fdash.example.com%2Fauth%2Fwecom%2Fcallback&" in location


def test_in_a_browser_the_qr_code_login(app, client):
    base, query, fragment = start(client)
    assert base == "https://login.work.weixin.qq.com/wwlogin/sso/login" and fragment == ""
    state = query.pop("state")
    assert query == {"login_type": "CorpApp", "appid": "wwfakecorp0001", "agentid": "1000002",
                     "redirect_uri": f"{DASHBOARD}/auth/wecom/callback"}
    assert state != start(client)[1]["state"]  # a new one each time


def test_the_bases_are_settings(tmp_path, fake):
    with wired(tmp_path, fake, WECOM_OAUTH_BASE="https://oauth.example/", WECOM_SSO_BASE="https://sso.example") as app:
        client = app.test_client()
        assert start(client, agent=IN_WECOM)[0] == "https://oauth.example/connect/oauth2/authorize"
        assert start(client)[0] == "https://sso.example/wwlogin/sso/login"


# --- signing in ---


def test_a_linked_user_signs_in_and_lands_on_the_page_asked_for(app, fake, client):
    link(app, "staff", "lisi")
    response = sign_in(client, fake, "lisi", next="/campaigns/?page=2")
    assert response.status_code == 302 and response.headers["Location"] == "/campaigns/?page=2"
    assert whoami(client) == "staff"
    [row] = audits(app, "login.wecom")
    assert row["actor"] == "staff" and row["wecom_userid"] == "lisi"
    with app.app_context():
        assert db.session.scalar(db.select(User.last_login_at).filter_by(username="staff"))
        assert db.session.scalar(db.select(db.func.count()).select_from(UserSession)) == 1


def test_inside_wecom_too_and_without_next_home(app, fake, client):
    link(app, "manager", "zhaoliu")
    response = sign_in(client, fake, "zhaoliu", agent=IN_WECOM)
    assert response.headers["Location"] == "/" and whoami(client) == "manager"


def test_userids_ignore_case(app, fake, client):
    link(app, "staff", "LiSi")
    assert sign_in(client, fake, "lisi").status_code == 302 and whoami(client) == "staff"


@pytest.mark.parametrize("next", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                  "javascript:alert(1)", "http:/evil.example"])
def test_next_never_leaves_the_site(app, fake, client, next):
    link(app, "staff", "lisi")
    response = sign_in(client, fake, "lisi", next=next)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_session_is_renewed(app, fake, client):
    link(app, "staff", "lisi")
    with client.session_transaction() as session:
        session["planted"] = "by someone who had this cookie before"
    state = start(client)[1]["state"]
    before = client.get_cookie("session").value
    response = come_back(client, fake.issue_login_code("lisi"), state)
    after = client.get_cookie("session").value
    assert response.status_code == 302 and after != before
    with client.session_transaction() as session:
        assert "planted" not in session and wecom_login.PENDING not in session
    other = app.test_client()  # the cookie from before the sign-in signs nobody in
    other.set_cookie("session", before)
    assert whoami(other) is None and whoami(client) == "staff"


# --- the state ---


def test_a_wrong_state_is_refused(app, fake, client):
    link(app, "staff", "lisi")
    start(client)
    page = refused(come_back(client, fake.issue_login_code("lisi"), "x" * 32), 400, "state_wrong")
    assert "not started in this browser" in page and whoami(client) is None
    assert audits(app, "login.wecom_failed")[-1]["reason"] == "state_wrong"
    assert fake.calls("/auth/getuserinfo") == []  # the code is not even spent


def test_a_missing_state_is_refused(app, fake, client):
    link(app, "staff", "lisi")
    start(client)
    refused(come_back(client, fake.issue_login_code("lisi"), None), 400, "state_missing")
    assert whoami(client) is None and audits(app, "login.wecom_failed")[-1]["reason"] == "state_missing"


def test_a_state_from_another_browser_is_refused(app, fake, client):
    """A sign-in link made in the attacker's browser does not sign the victim in as the attacker."""
    link(app, "staff", "lisi")
    attackers = app.test_client()
    state = start(attackers)[1]["state"]
    start(client)
    refused(come_back(client, fake.issue_login_code("lisi"), state), 400, "state_wrong")
    assert whoami(client) is None


def test_a_state_is_used_once(app, fake, client):
    link(app, "staff", "lisi")
    state = start(client)[1]["state"]
    refused(come_back(client, None, state), 400, "code_missing")  # WeCom came back without a code
    refused(come_back(client, fake.issue_login_code("lisi"), state), 400, "state_wrong")
    assert whoami(client) is None


def test_a_state_lives_ten_minutes(app, fake, client, monkeypatch):
    link(app, "staff", "lisi")
    state = start(client, "/reports/")[1]["state"]
    later = time.time() + wecom_login.STATE_LIFE + 1
    monkeypatch.setattr(wecom_login.time, "time", lambda: later)
    page = refused(come_back(client, fake.issue_login_code("lisi"), state), 400, "state_expired")
    assert "longer than 10 minutes" in page and 'href="/auth/wecom?next=/reports/"' in page
    assert whoami(client) is None


def test_sign_ins_started_in_several_tabs_each_work(app, fake, client):
    link(app, "staff", "lisi")
    first = start(client, "/reports/")[1]["state"]
    start(client, "/cards/")  # a second tab does not take the first one's place
    assert come_back(client, fake.issue_login_code("lisi"), first).headers["Location"] == "/reports/"


# --- the code and WeCom's answers ---


def test_a_code_used_once_is_refused_the_second_time(app, fake, client):
    link(app, "staff", "lisi")
    code = fake.issue_login_code("lisi")
    assert come_back(client, code, start(client)[1]["state"]).status_code == 302
    replay = app.test_client()  # someone who saw the callback's address tries it again
    page = refused(come_back(replay, code, start(replay)[1]["state"]), 400, "code_invalid")
    assert "used already, or it expired" in page and whoami(replay) is None
    assert audits(app, "login.wecom_failed")[-1] == {
        "actor": "anonymous", "reason": "code_invalid", "source": "127.0.0.1", "errcode": 40029}


def test_an_unknown_member_is_refused_and_audited(app, fake, client):
    page = refused(sign_in(client, fake, "wangwu"), 403, "not_allowed")
    assert "wangwu has no access to this dashboard" in page and "Ask a dashboard admin" in page
    assert whoami(client) is None
    assert audits(app, "login.wecom_failed")[-1] == {
        "actor": "wangwu", "reason": "not_allowed", "source": "127.0.0.1", "wecom_userid": "wangwu"}
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="wangwu")) is None


def test_someone_outside_the_company_is_refused(app, fake, client):
    state = start(client)[1]["state"]
    page = refused(come_back(client, fake.issue_login_code(openid="oWx123"), state), 403, "not_member")
    assert "outside this company" in page and whoami(client) is None


def test_a_wecom_error_is_a_page_not_a_500(app, fake, client):
    link(app, "staff", "lisi")
    fake.fail_next(48002, path="/auth/getuserinfo")
    page = refused(sign_in(client, fake, "lisi"), 400, "wecom_error")
    assert "error 48002" in page and whoami(client) is None
    fake.stop()
    try:
        page = refused(sign_in(client, fake, "lisi"), 400, "wecom_unreachable")
    finally:
        fake.start()
    assert "WeCom did not answer" in page


def test_a_deactivated_user_is_refused(app, fake, client):
    link(app, "staff", "lisi")
    with app.app_context():
        auth_service.update_user(db.session.scalar(db.select(User).filter_by(username="staff")),
                                 role="staff", active=False, password=None)
        db.session.commit()
    page = refused(sign_in(client, fake, "lisi"), 403, "deactivated")
    assert "is deactivated" in page and whoami(client) is None


def test_two_users_linked_to_one_member_are_refused_until_an_admin_keeps_one(app, fake, client):
    link(app, "staff", "lisi")
    link(app, "manager", "LISI")  # as the account page could have saved it before links were unique
    refused(sign_in(client, fake, "lisi"), 403, "ambiguous")
    link(app, "manager", None)
    assert sign_in(client, fake, "lisi").status_code == 302 and whoami(client) == "staff"


def test_signing_in_throttles_per_address(tmp_path, fake):
    with wired(tmp_path, fake, LOGIN_REFUSE_AFTER=3, LOGIN_SLOW_AFTER=10) as app:
        client = app.test_client()
        for _ in range(3):
            refused(come_back(client, "forged", "forged"), 400, "state_wrong")
        link(app, "staff", "lisi")
        page = refused(sign_in(client, fake, "lisi"), 429, "too_many")
        assert "Try again in 15 minutes." in page and whoami(client) is None
        assert audits(app, "login.wecom_refused")[-1]["reason"] == "pair"
        other = app.test_client()  # another address is not locked out
        other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        assert sign_in(other, fake, "lisi").status_code == 302 and whoami(other) == "staff"


# --- WECOM_ADMINS ---


def test_wecom_admins_sign_in_as_admins_on_a_fresh_install(tmp_path, fake):
    with wired(tmp_path, fake, users=False, WECOM_ADMINS=" zhangsan , ZhaoLiu") as app:
        client = app.test_client()
        assert sign_in(client, fake, "zhangsan").status_code == 302 and whoami(client) == "zhangsan"
        zhaoliu = app.test_client()
        assert sign_in(zhaoliu, fake, "zhaoliu").status_code == 302 and whoami(zhaoliu) == "zhaoliu"
        refused(sign_in(app.test_client(), fake, "lisi"), 403, "not_allowed")
        with app.app_context():
            users = {u.username: (u.role, u.wecom_userid, u.password_login)
                     for u in db.session.scalars(db.select(User))}
        assert users == {"zhangsan": ("admin", "zhangsan", False), "zhaoliu": ("admin", "zhaoliu", False)}
        assert client.get("/users").status_code == 200
        assert sign_in(app.test_client(), fake, "zhangsan").status_code == 302  # the same user again
        with app.app_context():
            assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2


def test_a_wecom_admin_whose_userid_is_a_local_username_gets_a_user_of_their_own(tmp_path, fake):
    with wired(tmp_path, fake, WECOM_ADMINS="staff") as app:  # "staff" is a local user's name
        fake.add_user("staff", "职员", [1])
        client = app.test_client()
        assert sign_in(client, fake, "staff").status_code == 302 and whoami(client) == "staff-wecom"


def test_a_demoted_wecom_admin_stays_demoted(tmp_path, fake):
    with wired(tmp_path, fake, WECOM_ADMINS="zhangsan") as app:
        sign_in(app.test_client(), fake, "zhangsan")
        with app.app_context():
            user = db.session.scalar(db.select(User).filter_by(username="zhangsan"))
            auth_service.update_user(user, role="manager", active=True, password=None)
            db.session.commit()
        client = app.test_client()
        sign_in(client, fake, "zhangsan")
        assert client.get("/users").status_code == 403


@pytest.mark.parametrize("value, words", [("zhang san", "not a WeCom userid"), ("a,b!", "not a WeCom userid")])
def test_a_mistyped_wecom_admins_stops_the_start(tmp_path, fake, value, words):
    from dashboard.config import ConfigError

    with pytest.raises(ConfigError, match=words):
        with wired(tmp_path, fake, WECOM_ADMINS=value):
            pass


def test_a_sign_in_base_that_is_no_address_stops_the_start(tmp_path, fake):
    from dashboard.config import ConfigError

    with pytest.raises(ConfigError, match="WECOM_SSO_BASE must be an http"):
        with wired(tmp_path, fake, WECOM_SSO_BASE="login.work.weixin.qq.com"):
            pass


def test_in_sandbox_mode_the_sandbox_plays_the_sign_in_pages(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, DASHBOARD_URL="http://127.0.0.1:5000/")
    assert app.config["SANDBOX"]
    assert app.config["WECOM_OAUTH_BASE"] == "http://127.0.0.1:5000/sandbox/oauth"
    assert app.config["WECOM_SSO_BASE"] == "http://127.0.0.1:5000/sandbox/sso"
    kept = make_app(tmp_path / "2", WECOM_SSO_BASE="https://sso.example")
    assert kept.config["WECOM_SSO_BASE"] == "https://sso.example"


# --- the login page and the password-login switch ---


def test_the_login_page_offers_wecom_first_keeping_next(client):
    page = client.get("/login?next=/reports/3").get_data(as_text=True)
    button = page.index('id="wecom-sign-in"')
    assert button < page.index('name="password"')
    assert 'href="/auth/wecom?next=/reports/3"' in page and "Sign in with WeCom" in page
    assert 'href="/auth/wecom"' in client.get("/login?next=https://evil.example/").get_data(as_text=True)


def test_with_password_sign_in_off_the_password_is_refused_with_a_pointer_to_wecom(app, fake, client, login):
    link(app, "staff", "lisi", password_login=False)
    page = login("staff").get_data(as_text=True)
    assert "Password sign-in is off for this user: sign in with WeCom." in page and whoami(client) is None
    assert audits(app, "login_failed")[-1]["reason"] == "password_login_off"
    assert "Password sign-in is off" not in login("staff", "wrong-password").get_data(as_text=True)
    assert sign_in(client, fake, "lisi").status_code == 302 and whoami(client) == "staff"
    assert 'id="password"' not in client.get("/account").get_data(as_text=True)  # no password to change


# --- the CLI ---


def test_the_cli_creates_a_user_linked_to_a_wecom_member(app, fake):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "li.si", "--role", "manager", "--wecom-userid", "lisi"])
    assert result.exit_code == 0, result.output
    assert "Created manager li.si." in result.output and "with WeCom only" in result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="li.si"))
        assert (user.role, user.wecom_userid, user.password_login) == ("manager", "lisi", False)
    client = app.test_client()
    assert sign_in(client, fake, "lisi").status_code == 302 and whoami(client) == "li.si"


def test_the_cli_with_a_password_too_keeps_password_sign_in(app, fake, login):
    result = app.test_cli_runner().invoke(args=["users", "create", "wang", "--role", "staff",
                                                "--wecom-userid", "wangwu", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert login("wang").status_code == 302


@pytest.mark.parametrize("userid, words", [("bad id", "is not a WeCom userid"), ("LISI", "Another user is linked")])
def test_the_cli_refuses_a_bad_or_taken_userid(app, userid, words):
    link(app, "staff", "lisi")
    result = app.test_cli_runner().invoke(args=["users", "create", "x", "--role", "staff", "--wecom-userid", userid])
    assert result.exit_code != 0 and words in result.output


# --- logs ---


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_no_code_in_any_log(app, fake, served, caplog):
    """The web server's access line of the callback and the client's line of getuserinfo."""
    caplog.set_level(logging.DEBUG)
    link(app, "staff", "lisi")
    browser = requests.Session()
    location = browser.get(f"{served}/auth/wecom", allow_redirects=False, timeout=5).headers["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    code = fake.issue_login_code("lisi")
    answer = browser.get(f"{served}/auth/wecom/callback", params={"code": code, "state": state},
                         allow_redirects=False, timeout=5)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert "/auth/wecom/callback?code=***&state=" in caplog.text  # werkzeug's access line
    assert "/cgi-bin/auth/getuserinfo?access_token=***&code=***" in caplog.text  # urllib3's
    assert code not in caplog.text
