"""The menu calls (自定义菜单) against the fake WeCom over real HTTP on 127.0.0.1."""
import json

import pytest

from dashboard.wecom.client import WeComClient, encode_body
from dashboard.wecom.errors import ApiError
from dashboard.wecom.menus import menu_body, menu_problems
from tests.fake_wecom import FakeWeCom

MENU = {"button": [
    {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"},
    {"name": "菜单", "sub_button": [
        {"type": "view", "name": "搜索", "url": "https://www.soso.com/"},
        {"type": "view_miniprogram", "name": "小程序", "url": "https://example.com/",
         "pagepath": "pages/lunar/index", "appid": "wx4389ji4kAAA"},
        {"type": "scancode_waitmsg", "name": "扫码带提示", "key": "rselfmenu_0_0"}]}]}


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


def make_client(fake, agent_id=None):
    return WeComClient(fake.corp_id, fake.secret, agent_id or fake.agent_id,
                       base_url=fake.base_url, timeout=(1, 2))


@pytest.fixture
def client(fake):
    client = make_client(fake)
    yield client
    client.close()


def errcode_of(call, *args) -> int:
    with pytest.raises(ApiError) as info:
        call(*args)
    return info.value.errcode


def test_a_menu_is_published_read_back_and_removed(fake, client):
    edited = {"button": [{**MENU["button"][0], "id": 1}, MENU["button"][1]]}
    client.create_menu(edited)
    create = fake.calls("/menu/create")[-1]
    assert create.method == "POST" and create.query["agentid"] == str(fake.agent_id)
    assert create.raw == encode_body(menu_body(MENU))  # the preview's bytes, no editor fields
    assert fake.menu == MENU and client.get_menu() == MENU
    client.delete_menu()
    assert fake.menu is None and client.get_menu() == {"button": []}
    assert [c.query["agentid"] for c in fake.calls("/menu/get") + fake.calls("/menu/delete")] == [
        str(fake.agent_id)] * 3


def test_create_replaces_the_whole_menu(fake, client):
    client.create_menu(MENU)
    client.create_menu({"button": [MENU["button"][0]]})
    assert client.get_menu() == {"button": [MENU["button"][0]]}


def test_without_a_menu_get_answers_no_buttons_and_delete_is_ok(fake, client):
    assert client.get_menu() == {"button": []}
    client.delete_menu()
    assert fake.menu is None


def test_other_errors_of_get_are_raised(fake, client):
    fake.fail_next(48002, path="/menu/get")
    assert errcode_of(client.get_menu) == 48002


def test_the_menu_calls_are_the_apps_own(fake):
    other = make_client(fake, agent_id=42)
    assert errcode_of(other.create_menu, MENU) == 40056
    assert errcode_of(other.get_menu) == 40056
    assert errcode_of(other.delete_menu) == 40056
    assert fake.menu is None
    other.close()


def test_an_expired_token_is_renewed_once(fake, client):
    client.create_menu(MENU)
    fake.expire_tokens()
    assert client.get_menu() == MENU


def _sub(**changes) -> dict:
    return {"button": [{"name": "菜单", "sub_button": [{**MENU["button"][1]["sub_button"][0],
                                                       **changes}]}]}


def _top(**changes) -> dict:
    return {"button": [{**MENU["button"][1]["sub_button"][0], **changes}]}


REFUSED = [
    ({"button": [MENU["button"][0]] * 4}, 40016),
    ({"button": [{"name": "菜单", "sub_button": MENU["button"][1]["sub_button"] * 2}]}, 40023),
    (_top(name="六个汉字啊啊"), 40018),
    (_sub(name="十四个汉字啊" * 2 + "十四"), 40025),
    (_top(type="media_id"), 40017),
    (_sub(type="media_id"), 40024),
    (_top(type="click", key="k" * 129), 40019),
    (_sub(type="click", key="键" * 43), 40026),
    (_top(url="https://a.cn/" + "p" * 1012), 40020),
    (_sub(url="https://a.cn/" + "p" * 1012), 40027),
    (_top(url="www.soso.com"), 40055),
    (_sub(url="ftp://soso.com/"), 40054),
    ({"button": [{"name": "菜单", "sub_button": [MENU["button"][1]]}]}, 40022),
]


@pytest.mark.parametrize("menu, errcode", REFUSED)
def test_the_fake_refuses_what_wecom_refuses_and_the_checks_saw_it_first(fake, client, menu,
                                                                         errcode):
    assert errcode_of(client.create_menu, menu) == errcode
    assert fake.menu is None
    assert errcode in {p.code for p in menu_problems(menu)}


def test_the_checks_are_stricter_than_wecom_on_url_length(fake, client):
    """Doc 90231 now says 1024 bytes; the product keeps the old 256 (the stricter reading)."""
    menu = _top(url="https://a.cn/" + "p" * 300)
    client.create_menu(menu)
    assert fake.menu == menu
    assert [p.code for p in menu_problems(menu)] == [40020]


def test_the_body_posted_is_compact_utf8_json(fake, client):
    client.create_menu(MENU)
    raw = fake.calls("/menu/create")[-1].raw
    assert "今日歌曲".encode() in raw and b"\\u" not in raw
    assert json.loads(raw) == MENU
