"""The contacts calls (通讯录管理) against the fake WeCom over real HTTP on 127.0.0.1."""

import pytest

from dashboard.wecom.client import WeComClient
from dashboard.wecom.errors import ApiError
from tests.fake_wecom import DEPARTMENTS, TAGS, USERS, FakeWeCom


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


def make_client(fake):
    return WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url,
                       timeout=(1, 2))


@pytest.fixture
def client(fake):
    client = make_client(fake)
    yield client
    client.close()


def errcode_of(call, *args) -> int:
    with pytest.raises(ApiError) as info:
        call(*args)
    return info.value.errcode


def all_user_rows(client, limit=10000) -> list[tuple[str, int]]:
    """Every page of user/list_id, followed cursor by cursor (a few pages at most)."""
    rows, cursor = [], None
    for _ in range(10):
        page, cursor = client.list_user_ids(cursor, limit)
        rows += [(r["userid"], r["department"]) for r in page]
        if cursor is None:
            return rows
    pytest.fail(f"still a cursor after 10 pages: {cursor!r}")


# --- the calls ---


def test_department_ids_are_the_tree_without_names(client):
    assert client.list_department_ids() == [
        {"id": 1, "parentid": 0, "order": 100000},
        {"id": 2, "parentid": 1, "order": 99000},
        {"id": 3, "parentid": 1, "order": 98000},
    ]
    assert [d["id"] for d in client.list_department_ids(2)] == [2]
    assert errcode_of(client.list_department_ids, 99) == 60123


def test_get_department(fake, client):
    department = client.get_department(2)
    assert (department["id"], department["name"], department["parentid"]) == (2, "研发部", 1)
    assert department["department_leader"] == []
    assert fake.calls("/department/get")[0].query["id"] == "2"
    assert errcode_of(client.get_department, 99) == 60123


def test_get_user(client):
    user = client.get_user("LISI")  # userids ignore case; WeCom answers with the stored one
    assert user == {"userid": "lisi", "name": "李四", "department": [2], "main_department": 2}
    assert errcode_of(client.get_user, "nobody") == 60111


def test_one_page_of_user_ids_holds_a_row_per_department(fake, client):
    fake.add_user("sunqi", "孙七", [2, 3])
    rows, cursor = client.list_user_ids()
    assert cursor is None
    assert [(r["userid"], r["department"]) for r in rows] == [
        ("zhangsan", 1), ("lisi", 2), ("wangwu", 2), ("zhaoliu", 3), ("sunqi", 2), ("sunqi", 3)]
    assert fake.calls("/user/list_id")[0].body == {"limit": 10000}  # no cursor on the first call


@pytest.mark.parametrize("page, limit, calls", [(2, 10000, 3), (10000, 4, 2), (1, 1, 6)])
def test_user_ids_come_in_pages_until_no_cursor(page, limit, calls):
    with FakeWeCom(list_id_page=page) as fake:
        fake.add_user("sunqi", "孙七", [2, 3])  # its two rows fall on two pages of 1 or 4
        client = make_client(fake)
        rows = all_user_rows(client, limit)
        client.close()
    assert rows == [("zhangsan", 1), ("lisi", 2), ("wangwu", 2), ("zhaoliu", 3), ("sunqi", 2),
                    ("sunqi", 3)]
    assert len(fake.calls("/user/list_id")) == calls
    assert all(c.body["cursor"] for c in fake.calls("/user/list_id")[1:])


def test_a_cursor_the_server_never_gave_is_refused(client):
    assert errcode_of(client.list_user_ids, "made-up") == 40058


@pytest.mark.parametrize("limit", [0, 10001])
def test_a_limit_out_of_range_is_refused_before_calling(fake, client, limit):
    with pytest.raises(ValueError):
        client.list_user_ids(limit=limit)
    assert not fake.calls("/user/list_id")


def test_user_ids_forbidden_without_the_contacts_secret():
    with FakeWeCom(list_id_forbidden=True) as fake:
        client = make_client(fake)
        assert errcode_of(client.list_user_ids) == 48002
        client.close()


def test_fetch_child_is_sent_only_when_asked(fake, client):
    fake.add_department(4, "前端组", 2)
    fake.add_user("qianba", "钱八", [4])
    assert [u["userid"] for u in client.list_department_users(2)] == ["lisi", "wangwu"]
    assert "fetch_child" not in fake.calls("/user/simplelist")[-1].query
    deep = client.list_department_users(2, fetch_child=True)
    assert [u["userid"] for u in deep] == ["lisi", "wangwu", "qianba"]
    assert fake.calls("/user/simplelist")[-1].query["fetch_child"] == "1"


# --- an app without the contacts permission: ids, no names ---


def test_hidden_names_leave_only_ids():
    with FakeWeCom(hide_names=True) as fake:
        client = make_client(fake)
        departments, department = client.list_departments(), client.get_department(2)
        members, user = client.list_department_users(1, fetch_child=True), client.get_user("lisi")
        tag = client.tag_members(1)
        client.close()
    assert [d["id"] for d in departments] == [1, 2, 3]
    assert not any("name" in d for d in [*departments, department, *members, user])
    assert [u["userid"] for u in members] == ["zhangsan", "lisi", "wangwu", "zhaoliu"]
    assert user["department"] == [2] and tag["userlist"] == [{"userid": "zhangsan"}]


# --- the fake's directory changes between reads ---


def test_members_added_renamed_moved_and_removed(fake, client):
    fake.add_user("sunqi", "孙七", [3])
    fake.rename_user("zhangsan", "ZhangSan2")
    fake.set_name("lisi", "李四四")
    fake.move_user("wangwu", [3, 1])
    fake.remove_user("zhaoliu")
    users = {u["userid"]: u for u in client.list_department_users(1, fetch_child=True)}
    assert sorted(users) == ["ZhangSan2", "lisi", "sunqi", "wangwu"]
    assert (users["ZhangSan2"]["name"], users["lisi"]["name"]) == ("张三", "李四四")
    assert client.get_user("wangwu")["main_department"] == 3
    assert errcode_of(client.get_user, "zhaoliu") == 60111
    assert client.tag_members(1)["userlist"] == [{"userid": "ZhangSan2", "name": "张三"}]
    assert USERS[:2] == [{"userid": "zhangsan", "name": "张三", "department": [1]},
                         {"userid": "lisi", "name": "李四", "department": [2]}]


def test_departments_added_and_removed(fake, client):
    fake.add_department(4, "销售部", 1, order=97000)
    assert client.get_department(4)["name"] == "销售部"
    fake.move_user("zhaoliu", [4])
    fake.remove_department(3)  # empty now; the tag that named it loses it
    assert [d["id"] for d in client.list_department_ids()] == [1, 2, 4]
    assert client.tag_members(1)["partylist"] == []


@pytest.mark.parametrize("change", [
    lambda fake: fake.remove_department(1),  # has sub-departments
    lambda fake: fake.remove_department(2),  # has members
    lambda fake: fake.add_department(2, "again", 1),
    lambda fake: fake.add_department(9, "orphan", 42),
    lambda fake: fake.add_user("LISI", "again", [2]),
    lambda fake: fake.move_user("lisi", [42]),
    lambda fake: fake.rename_user("lisi", "wangwu"),
])
def test_changes_wecom_would_refuse_are_refused(fake, change):
    with pytest.raises(ValueError):
        change(fake)


def test_tags_set_and_the_constants_left_alone(fake, client):
    fake.set_tag(1, ["lisi"], [2])
    fake.set_tag(7, ["wangwu"], [], tagname="new hires")
    fake.remove_user("zhangsan")
    assert client.list_tags() == [{"tagid": 1, "tagname": "managers"},
                                  {"tagid": 7, "tagname": "new hires"}]
    assert client.tag_members(1) == {"userlist": [{"userid": "lisi", "name": "李四"}],
                                     "partylist": [2]}
    assert len(USERS) == 4 and TAGS[0]["userlist"] == ["zhangsan"] and len(DEPARTMENTS) == 3
    with FakeWeCom() as other:
        other_client = make_client(other)
        assert [u["userid"] for u in other_client.list_department_users(1, True)][0] == "zhangsan"
        other_client.close()
