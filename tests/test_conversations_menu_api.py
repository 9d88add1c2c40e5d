"""The app's menu in the JSON API (issue 26 point 7): GET the saved menu and its publication, PUT a
menu checked against WeCom's limits (422 at the paths) and published to the fake WeCom (200, or 502
with WeCom's reason)."""
import json

import pytest

from dashboard.extensions import db
from dashboard.models import AppMenu
from tests.test_api import api, app, fake  # noqa: F401  (fixtures: the app wired to the fake WeCom)
from tests.test_conversations_menu import CLICK, DOC_EXAMPLE, GOOD, VIEW, group

EMPTY = {"button": [], "published_at": None, "published_by": None, "publish_error": None}


def test_get_before_any_menu(api):
    assert api("get", "/menu", "manager").json == EMPTY


def test_put_publishes_wecoms_json_and_get_reads_it_back(app, api, fake):
    response = api("put", "/menu", json={"button": [{**CLICK, "note": "ours"}, group(VIEW, GOOD)]})
    assert response.status_code == 200, response.json
    body = json.loads(DOC_EXAMPLE)
    assert fake.calls("/menu/create")[0].raw.decode("utf-8") == DOC_EXAMPLE and fake.menu == body
    read = api("get", "/menu", "manager").json
    assert read == response.json and read["button"] == body["button"]
    assert read["published_by"] == "staff" and read["published_at"] and read["publish_error"] is None
    with app.app_context():
        assert db.session.get(AppMenu, 1).menu == body


@pytest.mark.parametrize("menu, path, code, message", [
    ({"button": [CLICK, VIEW, GOOD, {**CLICK, "key": "k4"}]}, "button", 40016,
     "The menu has 4 buttons; WeCom allows 1 to 3."),
    ({"button": [group(*({**GOOD, "key": f"k{i}"} for i in range(6)))]}, "button[0].sub_button", 40023,
     "This button has 6 sub-buttons; WeCom allows 1 to 5."),
    ({"button": [{**CLICK, "name": "abcdefghijklmnopq"}]}, "button[0].name", 40018,
     "The name is 17 bytes in UTF-8; WeCom allows at most 16 here. Shorten it."),
    ({"button": [group(GOOD, {**CLICK, "key": "k" * 129})]}, "button[0].sub_button[1].key", 40026,
     "The key is 129 bytes in UTF-8; WeCom allows at most 128. Shorten it."),
    ({"button": [{"type": "view", "name": "搜索"}]}, "button[0].url", 40020,
     "A view button needs a url. Add it."),
    ({"button": []}, "button", 40016, "The menu has 0 buttons; WeCom allows 1 to 3."),
    ({"menu": [CLICK]}, "button", 40016, "button must be a list ([...]). Change it."),
    ([CLICK], "", None, "The menu must be an object ({...}) with a button list."),
])
def test_put_refuses_a_menu_beyond_wecoms_limits_at_its_path(app, api, fake, menu, path, code, message):
    response = api("put", "/menu", json=menu)
    assert response.status_code == 422
    assert response.json["errors"] == [{"path": path, "message": message, "code": code}]
    assert not fake.calls("/menu/create")
    with app.app_context():
        assert db.session.get(AppMenu, 1) is None


def test_put_refused_by_wecom_is_a_502_with_the_reason_and_the_menu_stays_saved(app, api, fake):
    fake.fail_next(48002, path="/menu/create")
    response = api("put", "/menu", json={"button": [CLICK]})
    assert response.status_code == 502
    assert response.json["message"].startswith("WeCom refused or did not answer: 48002: The app has no "
                                                "permission to call this API.")
    assert response.json["publish_error"] == "The app has no permission to call this API."
    assert api("get", "/menu").json == {**EMPTY, "button": [CLICK],
                                         "publish_error": "The app has no permission to call this API."}


def test_put_needs_json_and_a_writer(app, api, fake):
    assert api("put", "/menu", data="{", content_type="application/json").status_code == 400
    assert api("put", "/menu", "manager", json={"button": [CLICK]}).status_code == 403
    assert app.test_client().put("/api/v1/menu", json={"button": [CLICK]}).status_code == 401
    assert not fake.calls("/menu/create")


def test_openapi_describes_the_menu(api):
    spec = api("get", "/openapi.json").json
    put = spec["paths"]["/menu"]["put"]
    assert put["x-roles"] == ["staff", "admin"] and {"422", "502"} <= set(put["responses"])
    assert spec["paths"]["/menu"]["get"]["x-roles"] == ["staff", "manager", "admin"]
    button = spec["components"]["schemas"]["MenuButton"]["properties"]
    assert button["type"]["enum"][:3] == ["click", "view", "view_miniprogram"]
    assert button["sub_button"]["maxItems"] == 5
