"""The people picker: one search over people, departments and tags (pinyin too), the live count,
and the import read at once (pasted or CSV) with names looked up; over real HTTP to the fake WeCom."""
import io
import re

import pytest

from dashboard.directory import search
from dashboard.extensions import db
from dashboard.models import Campaign
from tests.campaign_factories import make_campaign, wired
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom

PEOPLE = [
    {"userid": "zhangwei", "name": "张伟", "department": [2]},
    {"userid": "zhangwei2", "name": "张伟", "department": [3]},
    {"userid": "zhangsan", "name": "张三", "department": [1]},
    {"userid": "lisi", "name": "李四", "department": [2]},
    {"userid": "wangwu", "name": "王五", "department": [2]},
    {"userid": "zhaoliu", "name": "赵六", "department": [3]},
]


@pytest.fixture
def fake():
    with FakeWeCom(users=PEOPLE) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        yield app


@pytest.fixture
def staff(client, login):
    """Signed in as staff, with the directory read."""
    login("staff")
    client.post("/campaigns/directory/refresh")
    return client


@pytest.fixture
def draft(app):
    with app.app_context():
        return make_campaign({"users": ["lisi"]}).id


def values(client, q: str) -> list[str]:
    response = client.get("/directory/search", query_string={"q": q})
    assert response.status_code == 200
    return [item["value"] for item in response.json["items"]]


@pytest.mark.parametrize("q", ["zw", "zhangwei", "ZhangW", "张伟", "zhangwei2"])
def test_a_member_is_found_by_pinyin_initials_full_pinyin_name_or_userid(staff, q):
    found = values(staff, q)
    assert found[0] in ("user:zhangwei", "user:zhangwei2") and "user:lisi" not in found


def test_a_department_is_found_with_its_members_after_it(staff):
    found = values(staff, "研发")
    assert found[0] == "department:2"
    assert {"user:zhangwei", "user:lisi", "user:wangwu"} <= set(found[1:])
    assert "user:zhaoliu" not in found
    assert values(staff, "yfb")[0] == "department:2"  # 研发部 by its initials


def test_items_carry_the_department_path_and_the_userid(staff):
    item = staff.get("/directory/search?q=lisi").json["items"][0]
    assert item == {**item, "value": "user:lisi", "kind": "user", "label": "李四", "detail": "lisi · 总部 / 研发部"}
    assert "lisi" in item["keys"] and "ls" in item["keys"]


def test_without_a_query_the_departments_and_tags_are_offered_and_at_most_50_items(staff, app):
    assert values(staff, "") == ["department:1", "department:2", "department:3", "tag:1"]
    with app.test_request_context():
        assert len(search.search("")) == 4 and len(search.search("z", limit=2)) == 2


def test_the_index_is_built_once_per_directory_change(staff, app, fake):
    with app.test_request_context():
        first = search.index()
        assert search.index() is first
    fake.add_user("chenjie", "陈杰", [2])
    staff.post("/campaigns/directory/refresh")
    assert values(staff, "cj") == ["user:chenjie"]


def test_who_may_search_count_and_parse(app, client, login):
    assert "/login" in client.get("/directory/search?q=zw").headers["Location"]
    assert "/login" in client.post("/campaigns/recipients/count").headers["Location"]
    assert "/login" in client.post("/campaigns/recipients/parse").headers["Location"]
    login("manager")
    assert client.get("/directory/search?q=zw").status_code == 200
    assert client.post("/campaigns/recipients/count").status_code == 403
    assert client.post("/campaigns/recipients/parse", data={"pasted": "lisi"}).status_code == 403


def test_the_live_count_is_the_check_pages_number(staff, app, draft):
    selection = {"chosen": ["department:2", "user:zhangsan", "tag:1"], "excluded": ["user:lisi"]}
    answer = staff.post("/campaigns/recipients/count", data=selection).json
    # 研发部 (zhangwei, lisi, wangwu) + zhangsan + tag managers (zhangsan, 市场部) - lisi
    assert answer == {"count": 5, "text": "5 people"}
    staff.post(f"/campaigns/{draft}/recipients", data=selection)
    page = staff.get(f"/campaigns/{draft}/check").get_data(as_text=True)
    assert re.search(r'id="check-recipients">5<', page)
    everyone = staff.post("/campaigns/recipients/count", data={"everyone": "y"}).json
    assert everyone["count"] == len(PEOPLE)
    assert staff.post("/campaigns/recipients/count", data={"chosen": ["nobody"]}).status_code == 400


def test_a_pasted_list_or_a_csv_is_read_at_once_with_names_looked_up(staff):
    csv = 'name,userid\n张三,zhangsan\n"李四,lisi\n,王五\n,张伟\n,无名\n,bad id!\n'.encode()
    answer = staff.post("/campaigns/recipients/parse", data={"upload": (io.BytesIO(csv), "a.csv")},
                        content_type="multipart/form-data").json
    assert [i["value"] for i in answer["kept"]] == ["user:zhangsan", "user:wangwu"]
    assert answer["kept"][0]["label"] == "张三"
    assert [p.split(":")[0] for p in answer["problems"]] == ["Line 3", "Line 6", "Line 7"]
    assert "quote" in answer["problems"][0] and "无名" in answer["problems"][1]
    [shared] = answer["ambiguous"]
    assert (shared["line"], shared["name"]) == (5, "张伟")
    assert [c["detail"] for c in shared["choices"]] == ["zhangwei · 总部 / 研发部", "zhangwei2 · 总部 / 市场部"]
    pasted = staff.post("/campaigns/recipients/parse", data={"pasted": "李四, 赵六\n" + "x y" * 100}).json
    assert [i["value"] for i in pasted["kept"]] == ["user:lisi", "user:zhaoliu"]
    assert len(pasted["problems"]) == 1 and len(pasted["problems"][0].split("“")[1].split("”")[0]) == 80


def test_a_save_keeps_the_good_lines_and_says_which_were_left_out(staff, app, draft):
    upload = (io.BytesIO("userid\nwangwu\nnot ok\n张伟\n".encode()), "people.csv")
    response = staff.post(f"/campaigns/{draft}/recipients", data={
        "pasted": "张三\nbad id!", "upload": upload}, content_type="multipart/form-data",
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path.endswith("/check")
    assert "3 lines left out" in page and "Line 3: “not ok”" in page and "Line 2: “bad id!”" in page
    assert "“张伟” is the name of 2 members" in page
    with app.app_context():
        assert db.session.get(Campaign, draft).recipients["users"] == ["zhangsan", "wangwu"]


def test_a_file_of_thousands_of_chips_is_saved_not_refused_as_too_large(staff, app, draft):
    """One form part per chip: Werkzeug's default of 1,000 parts answered 413 to a file of 1,200."""
    guests = [f"guest{i:04d}" for i in range(3000)]
    upload = (io.BytesIO(("userid\n" + "\n".join(guests)).encode()), "guests.csv")
    response = staff.post(f"/campaigns/{draft}/recipients", data={
        "chosen": ["user:lisi", *(f"user:{g}" for g in guests)], "upload": upload},
        content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("/check")
    with app.app_context():
        assert len(db.session.get(Campaign, draft).recipients["users"]) == 3001


def test_a_form_shown_again_keeps_the_files_people_as_chips(staff, draft):
    upload = (io.BytesIO(b"userid\nwangwu\nzhaoliu\n"), "people.csv")
    page = staff.post(f"/campaigns/{draft}/recipients", data={
        "everyone": "y", "chosen": ["user:lisi"], "upload": upload},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "Confirm that everyone should get this campaign." in page
    chips = re.findall(r'<option value="([^"]+)" selected', page)
    assert chips == ["user:lisi", "user:wangwu", "user:zhaoliu"]


def test_a_saved_selection_comes_back_as_chips_and_no_ctrl_click(staff, app, draft):
    staff.post(f"/campaigns/{draft}/recipients", data={
        "chosen": ["department:2", "tag:1", "user:ghost"], "excluded": ["user:wangwu"]})
    with app.app_context():
        spec = db.session.get(Campaign, draft).recipients
    assert (spec["departments"], spec["tags"], spec["users"]) == ([2], [1], ["ghost"])
    assert spec["exclude"]["users"] == ["wangwu"]
    page = staff.get(f"/campaigns/{draft}/recipients").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]+)" selected', page) == [
        "department:2", "tag:1", "user:ghost", "user:wangwu"]
    assert "研发部" in page and "Not in the directory" in page
    assert "Ctrl" not in page and "⌘" not in page


def test_the_picker_endpoints_take_the_csrf_token_in_a_header(tmp_path, fake):
    with wired(tmp_path / "csrf", fake, WTF_CSRF_ENABLED=True) as app:
        client = app.test_client()

        def token(path):
            page = client.get(path).get_data(as_text=True)
            return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

        client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token("/login")})
        client.post("/campaigns/directory/refresh", data={"csrf_token": token("/campaigns/")})
        with app.app_context():
            draft = make_campaign({"users": ["lisi"]}).id
        page = client.get(f"/campaigns/{draft}/recipients").get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        data = {"chosen": ["user:lisi"]}
        assert client.post("/campaigns/recipients/count", data=data).status_code == 400
        answer = client.post("/campaigns/recipients/count", data=data, headers={"X-CSRFToken": token})
        assert answer.json["count"] == 1
