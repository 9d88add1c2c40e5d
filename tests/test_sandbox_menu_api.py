"""The sandbox's menu calls (menu/create, menu/get, menu/delete), called by the app's real client
over real HTTP, with WeCom's errcodes; the published menu is kept in one SharedValue row."""
import json

import pytest

from dashboard.extensions import db
from dashboard.models import SandboxApiCall, SharedValue
from dashboard.sandbox.menus import MENU, published_menu
from dashboard.wecom.errors import ApiError
from tests.test_sandbox_api import raw, served, wecom  # noqa: F401  (fixtures)

POLL = {"type": "click", "name": "投票", "key": "vote"}
MORE = {"name": "更多", "sub_button": [
    {"type": "view", "name": "帮助", "url": "https://example.com/help"},
    {"type": "view_miniprogram", "name": "小程序", "url": "https://example.com/",
     "pagepath": "pages/index/index", "appid": "wx4389ji4kAAA"}]}


def errcode_of(call, *args) -> int:
    with pytest.raises(ApiError) as info:
        call(*args)
    return info.value.errcode


def stored_row() -> SharedValue | None:
    db.session.expire_all()  # the row was written by the server's own session
    return db.session.get(SharedValue, MENU)


def test_a_menu_is_published_kept_read_back_and_removed(app, wecom):
    wecom.create_menu({"button": [{**POLL, "id": 7}, MORE]})
    menu = {"button": [POLL, MORE]}
    row = stored_row()
    assert row.name == "sandbox.menu" and row.expires_at is None
    assert json.loads(row.value) == menu and published_menu() == menu
    assert wecom.get_menu() == menu
    wecom.create_menu({"button": [MORE]})  # no update call: create replaces it
    assert wecom.get_menu() == {"button": [MORE]}
    wecom.delete_menu()
    assert stored_row() is None and published_menu() == {"button": []}
    assert wecom.get_menu() == {"button": []}


def test_without_a_menu_get_answers_46003(app, wecom, served):
    token = wecom.get_access_token()
    assert raw(served, "menu/get", token=token, agentid=app.config["WECOM_AGENT_ID"])[
        "errcode"] == 46003
    assert raw(served, "menu/delete", token=token, agentid=app.config["WECOM_AGENT_ID"])[
        "errcode"] == 0


@pytest.mark.parametrize("agentid, errcode", [(None, 41011), ("", 41011), ("42", 40056),
                                              ("1000002x", 40056)])
def test_the_menu_calls_are_the_apps_own(app, wecom, served, agentid, errcode):
    token = wecom.get_access_token()
    params = {} if agentid is None else {"agentid": agentid}
    for path, body in (("menu/create", {"button": [POLL]}), ("menu/get", None),
                       ("menu/delete", None)):
        assert raw(served, path, body, token=token, **params)["errcode"] == errcode
    assert published_menu() == {"button": []}


@pytest.mark.parametrize("menu, errcode, where", [
    ({"button": [POLL] * 4}, 40016, "button"),
    ({"button": [{**POLL, "name": "六个汉字啊啊"}]}, 40018, "button[0].name"),
    ({"button": [{"name": "更多", "sub_button": [{**POLL, "key": "键" * 43}]}]}, 40026,
     "button[0].sub_button[0].key"),
    ({"button": [{**MORE["sub_button"][0], "url": "www.example.com"}]}, 40055, "button[0].url"),
    ({"button": [POLL, {"name": "更多", "sub_button": [POLL]}]}, 40058,
     "button[1].sub_button[0].key"),
])
def test_a_menu_over_the_limits_is_refused_at_its_field(app, wecom, menu, errcode, where):
    with pytest.raises(ApiError) as info:
        wecom.create_menu(menu)
    assert info.value.errcode == errcode and f"invalid {where}:" in info.value.errmsg
    assert stored_row() is None


def test_the_method_and_the_body_are_checked(app, wecom, served):
    token, agentid = wecom.get_access_token(), app.config["WECOM_AGENT_ID"]
    assert raw(served, "menu/create", token=token, agentid=agentid)["errcode"] == 40058  # GET
    assert raw(served, "menu/create", b"[1]", token=token, agentid=agentid)["errcode"] == 40058
    assert raw(served, "menu/create", {"button": "x"}, token=token, agentid=agentid)[
        "errcode"] == 40016


def test_the_calls_are_in_the_call_log(app, wecom):
    wecom.create_menu({"button": [POLL]})
    wecom.get_menu()
    assert errcode_of(wecom.create_menu, {"button": []}) == 40016
    db.session.expire_all()
    calls = db.session.scalars(db.select(SandboxApiCall).order_by(SandboxApiCall.id)).all()
    assert [(c.path, c.errcode) for c in calls if c.path.startswith("menu/")] == [
        ("menu/create", 0), ("menu/get", 0), ("menu/create", 40016)]
