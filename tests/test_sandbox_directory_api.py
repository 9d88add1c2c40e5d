"""The sandbox's contacts calls (department/simplelist, department/get, user/list_id, user/get,
user/simplelist), called by the app's real client over real HTTP, with WeCom's errcodes."""
import pytest

from dashboard.sandbox import people
from dashboard.wecom.errors import ApiError
from tests.test_sandbox_api import raw, served, wecom  # noqa: F401  (fixtures)


def errcode_of(call, *args) -> int:
    with pytest.raises(ApiError) as info:
        call(*args)
    return info.value.errcode


def test_department_ids_are_the_tree_without_names(app, wecom):
    tree = wecom.list_department_ids()
    assert {(d["id"], d["parentid"], d["order"]) for d in tree} == {
        (i, parent, order) for i, _, _, parent, order in people.DEPARTMENTS}
    assert all(set(d) == {"id", "parentid", "order"} for d in tree)
    assert [d["id"] for d in wecom.list_department_ids(4)] == [4, 7]
    assert errcode_of(wecom.list_department_ids, 99) == 60123


def test_get_department(app, wecom, served):
    department = wecom.get_department(6)
    assert department == {"id": 6, "name": "前端组", "name_en": "Frontend", "parentid": 2,
                          "order": 95000, "department_leader": []}
    assert errcode_of(wecom.get_department, 99) == 60123
    assert raw(served, "department/get", token=wecom.get_access_token(), id="x")["errcode"] == 60123


def test_get_user(app, wecom, served):
    user = wecom.get_user("davidchen")  # userids ignore case; the answer has the stored one
    assert (user["userid"], user["name"], user["department"]) == ("DavidChen", "David Chen", [6])
    assert wecom.get_user("wangfang")["main_department"] == 2
    assert errcode_of(wecom.get_user, "nobody") == 60111
    assert raw(served, "user/get", token=wecom.get_access_token())["errcode"] == 41009


def test_user_ids_hold_a_row_per_department_in_one_page(app, wecom):
    rows, cursor = wecom.list_user_ids()
    expected = {(u, d) for u, _, depts, *_ in people.EMPLOYEES for d in depts}
    assert cursor is None and len(rows) == len(expected) == 52
    assert {(r["userid"], r["department"]) for r in rows} == expected
    assert {r["department"] for r in rows if r["userid"] == "zhengkai"} == {4, 7}


def test_user_ids_in_pages_follow_the_cursor(app, wecom):
    rows, cursor, pages = [], None, 0
    while pages < 20:
        page, cursor = wecom.list_user_ids(cursor, limit=10)
        rows, pages = rows + page, pages + 1
        if cursor is None:
            break
    assert pages == 6 and rows == wecom.list_user_ids()[0]


@pytest.mark.parametrize("body", [
    {"limit": 0}, {"limit": 10001}, {"limit": "10"}, {"cursor": "made-up"},
    {"cursor": "sandbox-cursor-x"}])
def test_user_ids_refuse_a_bad_limit_or_cursor(app, wecom, served, body):
    answer = raw(served, "user/list_id", body, token=wecom.get_access_token())
    assert answer["errcode"] == 40058


def test_user_ids_must_be_posted(app, wecom, served):
    assert raw(served, "user/list_id", token=wecom.get_access_token())["errcode"] == 40058


def test_simplelist_without_fetch_child_is_the_direct_members_only(app, wecom):
    direct = {u["userid"] for u in wecom.list_department_users(2)}
    deep = {u["userid"] for u in wecom.list_department_users(2, fetch_child=True)}
    in_2 = {u for u, _, depts, *_ in people.EMPLOYEES if 2 in depts}
    in_6 = {u for u, _, depts, *_ in people.EMPLOYEES if 6 in depts}
    assert direct == in_2 and deep == in_2 | in_6 and not direct & in_6
