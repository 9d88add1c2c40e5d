"""The sandbox plays WeCom's identity provider (issue 19, point 5): its QR-code and in-client
sign-in pages, the one-time codes its auth/getuserinfo answers over real HTTP, and inbox links
that open as the employee."""
import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from dashboard import wecom_app
from dashboard.extensions import db
from dashboard.models import SandboxAuthCode
from dashboard.sandbox import identity, seed_directory
from dashboard.wecom.errors import ApiError
from tests.conftest import make_app

SSO = "/sandbox/sso/wwlogin/sso/login"
OAUTH = "/sandbox/oauth/connect/oauth2/authorize"


@pytest.fixture
def served(app):
    """The app on a real port, DASHBOARD_URL (the trusted domain and the API base) pointing at it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(DASHBOARD_URL=base, WECOM_API_BASE=f"{base}/sandbox/cgi-bin")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with app.app_context():
        seed_directory()
        db.session.commit()
    yield base
    server.shutdown()
    thread.join(timeout=5)


def sso_params(app, base, **changes):
    config = app.config
    params = {"login_type": "CorpApp", "appid": config["WECOM_CORP_ID"], "agentid": config["WECOM_AGENT_ID"],
              "redirect_uri": f"{base}/auth/wecom/callback", "state": "s7Kq2"}
    return {k: v for k, v in {**params, **changes}.items() if v is not None}


def oauth_params(app, base, **changes):
    params = {"appid": app.config["WECOM_CORP_ID"], "redirect_uri": f"{base}/auth/wecom/callback",
              "response_type": "code", "scope": "snsapi_base", "state": "s7Kq2",
              "agentid": app.config["WECOM_AGENT_ID"]}
    return {k: v for k, v in {**params, **changes}.items() if v is not None}


def back(response) -> dict:
    """The code and state of a redirect back to the app (asserting it is one)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/wecom/callback"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def getuserinfo(app, base, code, token=None):
    """auth/getuserinfo over HTTP, with a token from gettoken unless one is given."""
    if token is None:
        token = requests.get(f"{base}/sandbox/cgi-bin/gettoken", timeout=5, params={
            "corpid": app.config["WECOM_CORP_ID"], "corpsecret": app.config["WECOM_SECRET"]}).json()["access_token"]
    params = {"access_token": token, **({"code": code} if code is not None else {})}
    return requests.get(f"{base}/sandbox/cgi-bin/auth/getuserinfo", params=params, timeout=5).json()


def codes(app) -> list[SandboxAuthCode]:
    with app.app_context():
        return db.session.scalars(db.select(SandboxAuthCode)).all()


def test_the_qr_page_lists_the_employees_and_a_choice_goes_back_with_a_code(app, served, client):
    page = client.get(SSO, query_string=sso_params(app, served)).get_data(as_text=True)
    assert "Scan to sign in" in page and 'class="sandbox-qr' in page
    assert page.count('data-testid="scan-as"') == 50 and "张伟" in page and "研发部" in page
    answer = back(client.post(SSO, query_string=sso_params(app, served), data={"userid": "zhangwei"}))
    assert answer["state"] == "s7Kq2" and len(answer["code"]) >= 32
    assert getuserinfo(app, served, answer["code"]) == {
        "errcode": 0, "errmsg": "ok", "userid": "zhangwei", "user_ticket": "", "expires_in": 1800}


def test_a_code_is_taken_once(app, served, client):
    code = back(client.post(SSO, query_string=sso_params(app, served), data={"userid": "lina"}))["code"]
    assert getuserinfo(app, served, code)["userid"] == "lina"
    again = getuserinfo(app, served, code)
    assert again["errcode"] == 40029 and again["errmsg"].startswith("invalid code") and "userid" not in again


def test_the_apps_own_client_reads_who_signed_in_once(app, served, client):
    code = back(client.post(SSO, query_string=sso_params(app, served), data={"userid": "DavidChen"}))["code"]
    with app.app_context():
        wecom = wecom_app.client()
        assert wecom.get_user_info(code) == "DavidChen"
        with pytest.raises(ApiError) as replayed:
            wecom.get_user_info(code)
    assert replayed.value.errcode == 40029


def test_a_code_lives_five_minutes(app, served, client):
    old, fresh = (back(client.post(SSO, query_string=sso_params(app, served), data={"userid": u}))["code"]
                  for u in ("lina", "zhangwei"))
    with app.app_context():
        row = db.session.get(SandboxAuthCode, old)
        row.created_at -= timedelta(minutes=5, seconds=1)
        db.session.get(SandboxAuthCode, fresh).created_at -= timedelta(minutes=4, seconds=50)
        db.session.commit()
    assert getuserinfo(app, served, old)["errcode"] == 40029
    assert getuserinfo(app, served, fresh)["userid"] == "zhangwei"


@pytest.mark.parametrize("code, token, errcode", [
    ("never-issued", None, 40029), (None, None, 41008), ("", None, 41008),
    ("any", "not-a-token", 40014), ("any", "", 41001),
])
def test_getuserinfo_refuses_like_wecom(app, served, code, token, errcode):
    assert getuserinfo(app, served, code, token)["errcode"] == errcode


def test_the_redirect_keeps_the_query_of_redirect_uri(app, served, client):
    params = sso_params(app, served, redirect_uri=f"{served}/auth/wecom/callback?lang=zh", state="")
    location = client.post(SSO, query_string=params, data={"userid": "lina"}).headers["Location"]
    assert re.fullmatch(rf"{served}/auth/wecom/callback\?lang=zh&code=[\w-]+&state=", location)


@pytest.mark.parametrize("changes, reason", [
    ({"login_type": None}, "login_type must be CorpApp"),
    ({"login_type": "ServiceApp"}, "login_type must be CorpApp"),
    ({"appid": "wwsomeoneelse"}, "is not this sandbox&#39;s corp ID"),
    ({"appid": None}, "is not this sandbox&#39;s corp ID"),
    ({"agentid": "1000099"}, "is not this sandbox&#39;s app"),
    ({"agentid": None}, "is not this sandbox&#39;s app"),
    ({"redirect_uri": None}, "redirect_uri is missing"),
    ({"redirect_uri": "https://evil.example/auth/wecom/callback"}, "trusted domain"),
    ({"redirect_uri": "/auth/wecom/callback"}, "trusted domain"),
    ({"redirect_uri": "javascript:alert(1)//127.0.0.1"}, "trusted domain"),
    ({"state": "x" * 129}, "state is longer than 128 bytes"),
])
def test_the_qr_page_refuses_what_wecom_refuses(app, served, client, changes, reason):
    params = sso_params(app, served, **changes)
    for response in (client.get(SSO, query_string=params),
                     client.post(SSO, query_string=params, data={"userid": "lina"})):
        assert response.status_code == 400 and "Location" not in response.headers
        assert reason in response.get_data(as_text=True)
    assert codes(app) == []


@pytest.mark.parametrize("uri", [
    "{base}.evil.example/cb", "http://evil.example@{host}/cb", "http://{host}@evil.example/cb",
    "http://{host}\\@evil.example/cb", "http://{host}\t.evil.example/cb", "ftp://{host}/cb",
])
def test_codes_go_only_to_the_dashboards_host(app, served, client, uri):
    uri = uri.format(base=served, host=urlsplit(served).netloc)
    response = client.post(SSO, query_string=sso_params(app, served, redirect_uri=uri), data={"userid": "lina"})
    assert response.status_code == 400 and codes(app) == []


def test_an_unknown_member_gets_no_code(app, served, client):
    response = client.post(SSO, query_string=sso_params(app, served), data={"userid": "nobody"})
    assert response.status_code == 400 and "No member “nobody”" in response.get_data(as_text=True)
    assert codes(app) == []


def test_the_in_client_page_asks_who_when_no_inbox_link_said_so(app, served, client):
    page = client.get(OAUTH, query_string=oauth_params(app, served)).get_data(as_text=True)
    assert "Open in WeCom" in page and "<svg class=\"sandbox-qr" not in page and page.count('data-testid="scan-as"') == 50
    answer = back(client.post(OAUTH, query_string=oauth_params(app, served, agentid=None), data={"userid": "lina"}))
    assert getuserinfo(app, served, answer["code"])["userid"] == "lina"


@pytest.mark.parametrize("changes, reason", [
    ({"response_type": "token"}, "response_type must be code"),
    ({"scope": "snsapi_userinfo"}, "scope must be snsapi_base or snsapi_privateinfo"),
    ({"scope": "snsapi_privateinfo", "agentid": None}, "is not this sandbox&#39;s app"),
    ({"agentid": "1"}, "is not this sandbox&#39;s app"),
    ({"appid": "wwsomeoneelse"}, "is not this sandbox&#39;s corp ID"),
    ({"redirect_uri": "https://evil.example/cb"}, "trusted domain"),
])
def test_the_in_client_page_refuses_what_wecom_refuses(app, served, client, changes, reason):
    response = client.get(OAUTH, query_string=oauth_params(app, served, **changes))
    assert response.status_code == 400 and reason in response.get_data(as_text=True)


def test_an_inbox_link_opens_as_the_employee_for_one_sign_in(app, served, client, login):
    login("staff")
    opened = client.get(f"/sandbox/inbox/lina/open?url={quote(served + '/reports/3?tab=who')}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/auth/wecom?next=%2Freports%2F3%3Ftab%3Dwho"
    with client.session_transaction() as session:
        assert session[identity.OPEN_AS] == "lina"
    answer = back(client.get(SSO, query_string=sso_params(app, served)))  # at once, no list
    assert getuserinfo(app, served, answer["code"])["userid"] == "lina"
    assert client.get(SSO, query_string=sso_params(app, served)).status_code == 200  # asks again
    client.get("/sandbox/inbox/zhangwei/open?url=/reports/")
    assert getuserinfo(app, served, back(client.get(OAUTH, query_string=oauth_params(app, served)))["code"])[
        "userid"] == "zhangwei"


def test_a_refused_request_uses_up_the_remembered_employee(app, served, client, login):
    login("staff")
    client.get("/sandbox/inbox/lina/open?url=/reports/")
    assert client.get(SSO, query_string=sso_params(app, served, appid="wrong")).status_code == 400
    assert client.get(SSO, query_string=sso_params(app, served)).status_code == 200


def test_a_report_link_that_is_the_sign_in_already_is_followed_as_it_is(app, served, client, login):
    login("staff")
    link = f"{served}/auth/wecom?next=%2Freports%2F7#who"
    opened = client.get("/sandbox/inbox/lina/open", query_string={"url": link})
    assert opened.headers["Location"] == "/auth/wecom?next=%2Freports%2F7#who"


@pytest.mark.parametrize("url", [
    "https://evil.example/reports/", "//evil.example/reports/", "javascript:alert(1)", "reports/",
    "http://evil.example@{host}/reports/", "{base}\\@evil.example/", "{base}//evil.example/", "",
])
def test_an_inbox_link_elsewhere_is_refused(app, served, client, login, url):
    login("staff")
    url = url.format(base=served, host=urlsplit(served).netloc)
    response = client.get("/sandbox/inbox/lina/open", query_string={"url": url})
    assert response.status_code == 400 and "Location" not in response.headers
    with client.session_transaction() as session:
        assert identity.OPEN_AS not in session


def test_opening_a_link_needs_a_sign_in_and_a_known_employee(served, client, login):
    response = client.get("/sandbox/inbox/lina/open?url=/reports/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login("staff")
    assert client.get("/sandbox/inbox/nobody/open?url=/reports/").status_code == 404


def test_the_inbox_feed_opens_links_to_the_dashboard_as_the_employee(app, served, client, login):
    report, agenda = f"{served}/reports/3", "https://example.com/agenda"
    card = {"card_type": "text_notice", "main_title": {"title": "Results"},
            "card_action": {"type": 1, "url": report},
            "jump_list": [{"type": 1, "title": "Report", "url": report}, {"type": 1, "title": "Agenda", "url": agenda}],
            "quote_area": {"type": 1, "url": agenda, "title": "Agenda"}}
    token = requests.get(f"{served}/sandbox/cgi-bin/gettoken", timeout=5, params={
        "corpid": app.config["WECOM_CORP_ID"], "corpsecret": app.config["WECOM_SECRET"]}).json()["access_token"]
    sent = requests.post(f"{served}/sandbox/cgi-bin/message/send", params={"access_token": token}, timeout=5, json={
        "touser": "lina", "msgtype": "template_card", "agentid": int(app.config["WECOM_AGENT_ID"]),
        "template_card": card}).json()
    assert sent["errcode"] == 0, sent
    login("staff")
    [shown] = client.get("/sandbox/inbox/lina/feed").json["cards"]
    opening = urlsplit(shown["card"]["card_action"]["url"])
    assert f"{opening.scheme}://{opening.netloc}{opening.path}" == f"{served}/sandbox/inbox/lina/open"
    assert parse_qs(opening.query) == {"url": [report]}
    assert [j["url"] for j in shown["card"]["jump_list"]] == [shown["card"]["card_action"]["url"], agenda]
    assert shown["card"]["quote_area"]["url"] == agenda
    assert client.get(f"{opening.path}?{opening.query}").headers["Location"] == "/auth/wecom?next=%2Freports%2F3"


def test_choosing_an_employee_needs_the_csrf_token(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed_directory()
        db.session.commit()
    client, params = app.test_client(), sso_params(app, "http://127.0.0.1:9")
    page = client.get(SSO, query_string=params).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    assert client.post(SSO, query_string=params, data={"userid": "lina"}).status_code == 400
    assert codes(app) == []
    answer = back(client.post(SSO, query_string=params, data={"userid": "lina", "csrf_token": token}))
    assert answer["state"] == "s7Kq2" and [c.userid for c in codes(app)] == ["lina"]


def test_old_codes_are_deleted_as_new_ones_are_issued(app, served, client):
    first = back(client.post(SSO, query_string=sso_params(app, served), data={"userid": "lina"}))["code"]
    with app.app_context():
        db.session.get(SandboxAuthCode, first).created_at -= timedelta(hours=1, seconds=1)
        db.session.commit()
    back(client.post(SSO, query_string=sso_params(app, served), data={"userid": "zhangwei"}))
    assert [c.userid for c in codes(app)] == ["zhangwei"]


def test_the_qr_code_has_three_finder_squares():
    cells = set(identity.qr_cells("seed"))
    size = identity.QR_SIZE
    for left, top in ((0, 0), (size - 7, 0), (0, size - 7)):
        assert all((left + i, top) in cells and (left + i, top + 6) in cells for i in range(7))
        assert (left + 3, top + 3) in cells and (left + 1, top + 1) not in cells
    assert cells == set(identity.qr_cells("seed")) != set(identity.qr_cells("other"))
