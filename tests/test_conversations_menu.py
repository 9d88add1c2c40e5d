"""The app's menu editor (issue 26 points 3 and 6): WeCom's limits at the field, publishing to the
fake WeCom's menu/create as WeCom's exact JSON, reading it back, removing it, roles and CSRF, and a
published click button answered by a reply rule through the encrypted callback."""
import html
import json
import re

import pytest

from dashboard.extensions import db
from dashboard.models import AppMenu, AuditLog
from tests.campaign_factories import wired, wired_app
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom
from tests.test_conversations_callback import event_xml, post, reply_of, rule

CLICK = {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"}
VIEW = {"type": "view", "name": "搜索", "url": "http://www.soso.com/"}
GOOD = {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD"}
MINI = {"type": "view_miniprogram", "name": "小程序", "pagepath": "pages/index", "appid": "wx4389ji4kAAA"}
# Doc 90231's own example, as compact JSON in WeCom's field order: what menu/create must receive.
DOC_EXAMPLE = ('{"button":[{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"},'
               '{"name":"菜单","sub_button":['
               '{"type":"view","name":"搜索","url":"http://www.soso.com/"},'
               '{"type":"click","name":"赞一下我们","key":"V1001_GOOD"}]}]}')
FIELDS = ("name", "type", "key", "url", "appid", "pagepath")


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        yield app


@pytest.fixture
def staff(client, login):
    login("staff")
    return client


def group(*subs, name="菜单") -> dict:
    return {"name": name, "sub_button": list(subs)}


def form(*buttons, rows=3, subs=5) -> dict:
    """The editor's form as a browser posts it: every row (3 buttons × 5 sub-buttons unless more
    are given), the unused ones empty; a group's type is empty."""
    data = {}
    for i in range(max(rows, len(buttons))):
        button = buttons[i] if i < len(buttons) else {}
        data.update(_row(f"buttons-{i}", button))
        children = button.get("sub_button", [])
        for j in range(max(subs, len(children))):
            data.update(_row(f"buttons-{i}-subs-{j}", children[j] if j < len(children) else {}))
    return data


def _row(prefix: str, button: dict) -> dict:
    group_ = "sub_button" in button and "type" not in button
    values = {**button, "type": "" if group_ else button.get("type", "click")}
    return {f"{prefix}-{name}": values.get(name, "") for name in FIELDS}


def problems_at(page: str, field_id: str) -> list[str]:
    """The messages the page shows at a field (or a button's, a list's, the menu's) problems."""
    return [html.unescape(m) for m in re.findall(rf'data-problem-for="{field_id}">([^<]*)<', page)]


def is_invalid(page: str, field_id: str) -> bool:
    found = re.search(rf'<(?:input|select)[^>]*class="[^"]*is-invalid[^"]*"[^>]*id="{field_id}"', page)
    return found is not None


def saved(app) -> dict | None:
    with app.app_context():
        row = db.session.get(AppMenu, 1)
        return row and row.menu


# --- the editor -----------------------------------------------------------------------------------


def test_the_editor_has_fixed_rows_byte_counters_and_the_scripts_data(staff):
    page = staff.get("/conversations/menu").get_data(as_text=True)
    assert len(re.findall(r'name="buttons-\d-name"', page)) == 3
    assert len(re.findall(r'name="buttons-\d-subs-\d-name"', page)) == 15
    assert 'data-counter="buttons-0-name">0 / 16 bytes' in page
    assert 'data-counter="buttons-2-subs-4-name">0 / 40 bytes' in page
    assert 'data-counter="buttons-1-key">0 / 128 bytes' in page
    data = json.loads(re.search(r'id="menu-editor-data">(.*?)</script>', page).group(1))
    assert data["limits"]["name_bytes"] == 16 and data["needs"]["view"] == ["url"]
    assert "js/conversations-menu.js" in page and "Not published yet." in page


@pytest.mark.parametrize("buttons, field_id, message", [
    ([CLICK, VIEW, GOOD, {**CLICK, "key": "k4"}], "buttons",
     "The menu has 4 buttons; WeCom allows 1 to 3."),
    ([group(*({**GOOD, "key": f"k{i}"} for i in range(6)))], "buttons-0-subs",
     "This button has 6 sub-buttons; WeCom allows 1 to 5."),
    ([{**CLICK, "name": "abcdefghijklmnopq"}], "buttons-0-name",
     "The name is 17 bytes in UTF-8; WeCom allows at most 16 here. Shorten it."),
    ([CLICK, group(GOOD, {**VIEW, "name": "十四个汉字" * 2 + "十四个汉"})], "buttons-1-subs-1-name",
     "The name is 42 bytes in UTF-8; WeCom allows at most 40 here. Shorten it."),
    ([{**CLICK, "key": "k" * 129}], "buttons-0-key",
     "The key is 129 bytes in UTF-8; WeCom allows at most 128. Shorten it."),
    ([{"type": "view", "name": "搜索"}], "buttons-0-url", "A view button needs a url. Add it."),
    ([{"name": "菜单", "sub_button": []}], "buttons-0-subs",
     "This button has 0 sub-buttons; WeCom allows 1 to 5."),
    ([{**CLICK, "sub_button": [GOOD]}], "buttons-0-type",
     "A button with sub-buttons has no type of its own. Remove the type or the sub-buttons."),
    ([], "buttons", "The menu has 0 buttons; WeCom allows 1 to 3."),
])
def test_each_limit_is_an_error_at_its_field_and_nothing_is_saved_or_sent(
        app, fake, staff, buttons, field_id, message):
    response = staff.post("/conversations/menu/publish", data=form(*buttons))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and problems_at(page, field_id) == [message]
    assert is_invalid(page, field_id) == ("-" in field_id and not field_id.endswith("subs"))
    assert saved(app) is None and not fake.requests


def test_save_refuses_a_menu_with_problems_too(app, staff):
    response = staff.post("/conversations/menu", data=form({**CLICK, "key": "k" * 129}))
    page = response.get_data(as_text=True)
    assert problems_at(page, "buttons-0-key") == [
        "The key is 129 bytes in UTF-8; WeCom allows at most 128. Shorten it."]
    assert saved(app) is None


def test_empty_rows_are_left_out_and_problems_find_their_row(app, staff):
    data = form({}, {}, {**VIEW, "url": "www.soso.com"})  # the third row only
    page = staff.post("/conversations/menu", data=data).get_data(as_text=True)
    assert problems_at(page, "buttons-2-url") == [
        "The url must start with http:// or https://. Change it."]
    assert staff.post("/conversations/menu", data=form({}, {}, VIEW)).status_code == 302
    assert saved(app) == {"button": [VIEW]}


def test_save_keeps_wecoms_json_without_publishing(app, fake, staff):
    stale = {**VIEW, "key": "left from a click"}  # a field the type does not use
    response = staff.post("/conversations/menu", data=form(CLICK, group(stale, GOOD)))
    assert response.status_code == 302 and response.location.endswith("/conversations/menu")
    assert saved(app) == {"button": [CLICK, group(VIEW, GOOD)]}
    assert not fake.calls("/menu/create")
    page = staff.get("/conversations/menu").get_data(as_text=True)
    assert 'value="V1001_TODAY_MUSIC"' in page and 'value="http://www.soso.com/"' in page
    assert '<option selected value="">' in page  # the second button is a group


# --- publish, load, delete ------------------------------------------------------------------------


def test_publish_reaches_menu_create_with_wecoms_json_exactly(app, fake, staff):
    response = staff.post("/conversations/menu/publish", data=form(CLICK, group(VIEW, GOOD)))
    assert response.status_code == 302
    (call,) = fake.calls("/menu/create")
    assert call.raw.decode("utf-8") == DOC_EXAMPLE
    assert call.query["agentid"] == str(fake.agent_id) and fake.menu == json.loads(DOC_EXAMPLE)
    with app.app_context():
        row = db.session.get(AppMenu, 1)
        assert row.published_by.username == "staff" and row.published_at and row.publish_error is None
        assert row.menu == json.loads(DOC_EXAMPLE)
        actions = db.session.scalars(db.select(AuditLog.action)).all()
        assert {"app_menu_saved", "app_menu_published"} <= set(actions)
    page = staff.get("/conversations/menu").get_data(as_text=True)
    assert "Menu published." in page and re.search(r"Last published .+ by staff\.", page)


def test_a_mini_program_needs_no_url(fake, staff):
    assert staff.post("/conversations/menu/publish", data=form(MINI)).status_code == 302
    assert fake.calls("/menu/create")[0].body == {"button": [
        {"type": "view_miniprogram", "name": "小程序", "pagepath": "pages/index", "appid": "wx4389ji4kAAA"}]}


def test_wecoms_refusal_is_shown_and_kept_with_the_saved_menu(app, fake, staff):
    fake.fail_next(48002, path="/menu/create")
    response = staff.post("/conversations/menu/publish", data=form(CLICK), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "WeCom refused or did not answer: 48002: The app has no permission to call this API." in page
    with app.app_context():
        row = db.session.get(AppMenu, 1)
        assert row.menu == {"button": [CLICK]} and row.published_at is None
        assert row.publish_error == "The app has no permission to call this API."
    assert "The last publish failed: The app has no permission to call this API." in page
    staff.post("/conversations/menu/publish", data=form(CLICK))
    with app.app_context():
        assert db.session.get(AppMenu, 1).publish_error is None


def test_load_reads_menu_get_into_the_editor(app, fake, staff):
    fake.menu = {"button": [{**CLICK, "sub_button": []}, group(VIEW, {**GOOD, "sub_button": []})]}
    response = staff.post("/conversations/menu/load", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "WeCom&#39;s menu is in the editor: 2 buttons." in page
    assert saved(app) == json.loads(DOC_EXAMPLE)
    assert 'id="buttons-1-subs-1-key" name="buttons-1-subs-1-key" type="text" value="V1001_GOOD"' in page
    assert not fake.calls("/menu/create")


def test_a_loaded_menu_beyond_the_editors_stricter_rules_shows_its_problems(fake, staff):
    fake.menu = {"button": [{**VIEW, "url": "https://a.cn/" + "p" * 300}]}  # WeCom took 313 bytes
    page = staff.post("/conversations/menu/load", follow_redirects=True).get_data(as_text=True)
    assert problems_at(page, "buttons-0-url") == [
        "The url is 313 bytes in UTF-8; at most 256 are allowed. Shorten it."]


def test_load_without_a_menu_in_wecom_empties_the_editor(app, fake, staff):
    staff.post("/conversations/menu", data=form(CLICK))
    page = staff.post("/conversations/menu/load", follow_redirects=True).get_data(as_text=True)
    assert "WeCom has no menu for this app; the editor is empty." in page
    assert saved(app) == {"button": []} and problems_at(page, "buttons") == []


def test_delete_removes_the_menu_and_clears_the_editor(app, fake, staff):
    staff.post("/conversations/menu/publish", data=form(CLICK))
    page = staff.post("/conversations/menu/delete", follow_redirects=True).get_data(as_text=True)
    assert "The menu was removed from WeCom and the editor is empty." in page
    assert len(fake.calls("/menu/delete")) == 1 and fake.menu is None
    assert saved(app) == {"button": []} and 'value="V1001_TODAY_MUSIC"' not in page


def test_a_refused_delete_keeps_the_menu(app, fake, staff):
    staff.post("/conversations/menu/publish", data=form(CLICK))
    fake.fail_next(60020, path="/menu/delete")
    page = staff.post("/conversations/menu/delete", follow_redirects=True).get_data(as_text=True)
    assert "WeCom refused or did not answer: 60020" in page
    assert saved(app) == {"button": [CLICK]} and fake.menu == {"button": [CLICK]}


# --- a click answered by the rules ---------------------------------------------------------------------


def test_a_published_click_button_is_answered_by_a_rule(app, fake, staff):
    rule(app, "help", [{"match": "whole", "text": "MENU_HELP"}], [{"type": "text", "text": "帮助在这里"}])
    help_button = {"type": "click", "name": "帮助", "key": "MENU_HELP"}
    staff.post("/conversations/menu/publish", data=form(group(help_button, VIEW, name="更多")))
    key = fake.menu["button"][0]["sub_button"][0]["key"]
    answer = reply_of(app, post(app, app.test_client(), event_xml("click", key=key)))
    assert answer["MsgType"] == "text" and answer["Content"] == "帮助在这里"
    assert answer["ToUserName"] == "lisi"


# --- who may -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("get", "/conversations/menu"), ("post", "/conversations/menu"),
    ("post", "/conversations/menu/publish"), ("post", "/conversations/menu/load"),
    ("post", "/conversations/menu/delete")])
def test_only_staff_and_admins_edit_the_menu(app, fake, client, login, method, path):
    assert getattr(client, method)(path).status_code == 302  # to the login page
    login("manager")
    assert getattr(client, method)(path, data=form(CLICK)).status_code == 403
    assert not fake.requests and saved(app) is None
    client.post("/logout")
    login("admin")
    assert client.get("/conversations/menu").status_code == 200


def test_csrf_protects_every_menu_form(tmp_path, fake):
    app = wired_app(tmp_path, fake, WTF_CSRF_ENABLED=True)
    client = app.test_client()

    def token(path):
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                         client.get(path).get_data(as_text=True)).group(1)

    client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token("/login")})
    for path in ("/conversations/menu", "/conversations/menu/publish", "/conversations/menu/load",
                 "/conversations/menu/delete"):
        assert client.post(path, data=form(CLICK)).status_code == 400, path
    assert not fake.requests and saved(app) is None
    good = {**form(CLICK), "csrf_token": token("/conversations/menu")}
    assert client.post("/conversations/menu/publish", data=good).status_code == 302
    assert fake.menu == {"button": [CLICK]}
    with app.app_context():
        db.engine.dispose()
