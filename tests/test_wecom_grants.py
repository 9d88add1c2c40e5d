"""Who may sign in with WeCom through a role grant (issue 19, point 3): everyone in a department
(and below it) or with a tag, a user made on the first sign-in, the highest role, a grant removed,
and the users page (grants panel, the WeCom userid on create and edit, the password-login switch).
The directory is read from the fake WeCom over real HTTP, as the worker reads it."""
import pytest

from dashboard.auth import wecom_access
from dashboard.directory import sync
from dashboard.extensions import db
from dashboard.models import AuditLog, RoleGrant, User
from tests.campaign_factories import wired
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom
from tests.test_wecom_login import audits, refused, sign_in, whoami

# The fake's directory: 总部 (1) holds 研发部 (2) and 市场部 (3); zhangsan in 1, lisi and wangwu in 2,
# zhaoliu in 3; the tag "managers" (1) has zhangsan by name and department 3.


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        fake.add_department(4, "后台组", 2)
        fake.add_user("sunqi", "孙七", [4])
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        read_directory(app)
        yield app


def read_directory(app):
    with app.app_context():
        sync.run(actor="test")


def grant(app, kind, wecom_id, role) -> int:
    with app.app_context():
        made = wecom_access.add_grant(kind, wecom_id, role, actor="test")
        db.session.commit()
        return made.id


def user(app, username) -> User | None:
    with app.app_context():
        found = db.session.scalar(db.select(User).filter_by(username=username))
        if found is not None:
            db.session.expunge(found)
        return found


def test_a_department_grant_makes_a_user_on_the_first_sign_in(app, fake, client):
    grant(app, "department", 2, "manager")
    response = sign_in(client, fake, "sunqi", next="/reports/")  # 后台组 is below 研发部
    assert response.status_code == 302 and response.headers["Location"] == "/reports/"
    assert whoami(client) == "sunqi"
    made = user(app, "sunqi")
    assert (made.role, made.wecom_userid, made.active, made.password_login) == ("manager", "sunqi", True, False)
    created = audits(app, "user_created")[-1]
    assert created["actor"] == "wecom" and created["via"] == "grant" and created["name"] == "孙七"
    assert created["granted_by"] == made.granted_by_id
    guess = app.test_client().post("/login", data={"username": "sunqi", "password": PASSWORD})
    assert guess.status_code == 200  # no password that anyone knows
    again = app.test_client()
    assert sign_in(again, fake, "sunqi").status_code == 302 and whoami(again) == "sunqi"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User).filter_by(wecom_userid="sunqi")) == 1


def test_a_member_outside_the_granted_department_is_refused(app, fake, client):
    grant(app, "department", 3, "staff")
    refused(sign_in(client, fake, "lisi"), 403, "not_allowed")
    assert user(app, "lisi") is None


def test_a_tag_grant_by_name_and_through_its_department(app, fake):
    grant(app, "tag", 1, "manager")
    for userid in ("zhangsan", "zhaoliu"):  # zhangsan is tagged by name, zhaoliu through 市场部
        browser = app.test_client()
        assert sign_in(browser, fake, userid).status_code == 302 and whoami(browser) == userid
        assert user(app, userid).role == "manager"
    refused(sign_in(app.test_client(), fake, "lisi"), 403, "not_allowed")


def test_the_highest_grant_gives_the_role(app, fake, client):
    grant(app, "department", 1, "manager")
    grant(app, "tag", 1, "staff")
    sign_in(client, fake, "zhaoliu")
    made = user(app, "zhaoliu")
    with app.app_context():
        assert made.role == "staff" and made.granted_by_id == db.session.scalar(
            db.select(RoleGrant.id).filter_by(kind="tag"))


def test_a_user_who_left_the_granted_department_is_refused_at_the_next_sign_in(app, fake, client):
    grant(app, "department", 2, "staff")
    assert sign_in(client, fake, "lisi").status_code == 302
    fake.move_user("lisi", [3])
    read_directory(app)
    refused(sign_in(app.test_client(), fake, "lisi"), 403, "not_allowed")


def test_removing_a_grant_deactivates_the_users_it_alone_let_in_and_ends_their_sessions(app, fake, client, login):
    research = grant(app, "department", 2, "staff")
    grant(app, "tag", 1, "manager")
    lisi, zhaoliu = app.test_client(), app.test_client()
    sign_in(lisi, fake, "lisi")
    sign_in(zhaoliu, fake, "zhaoliu")
    login("admin")
    page = client.get("/users").get_data(as_text=True)
    assert "Department: 研发部" in page and "Tag: managers" in page
    response = client.post(f"/users/grants/{research}/remove", follow_redirects=True)
    assert "Grant removed; 1 user who came in through it is deactivated." in response.get_data(as_text=True)
    assert whoami(lisi) is None and user(app, "lisi").active is False
    assert whoami(zhaoliu) == "zhaoliu"  # came in by the tag
    refused(sign_in(app.test_client(), fake, "lisi"), 403, "deactivated")
    [row] = audits(app, "role_grant_removed")
    assert row["actor"] == "admin" and row["users"] == 1 and row["kind"] == "department"
    with app.app_context():
        assert db.session.get(RoleGrant, research) is None


def test_a_user_covered_by_another_grant_moves_to_it_with_its_role(app, fake, client, login):
    high = grant(app, "department", 1, "staff")
    grant(app, "department", 2, "manager")
    browser = app.test_client()
    sign_in(browser, fake, "lisi")
    assert user(app, "lisi").role == "staff"
    login("admin")
    client.post(f"/users/grants/{high}/remove")
    moved = user(app, "lisi")
    assert (moved.role, moved.active) == ("manager", True)
    assert whoami(browser) is None  # a new role: signed in again
    assert sign_in(browser, fake, "lisi").status_code == 302 and whoami(browser) == "lisi"


def test_the_grant_of_the_last_admin_cannot_be_removed(tmp_path, fake):
    with wired(tmp_path, fake, users=False) as app:
        read_directory(app)
        only = grant(app, "department", 1, "admin")
        admin = app.test_client()
        sign_in(admin, fake, "zhangsan")
        response = admin.post(f"/users/grants/{only}/remove", follow_redirects=True)
        assert "This is the last active admin" in response.get_data(as_text=True)
        with app.app_context():
            assert db.session.get(RoleGrant, only) is not None


def test_an_admins_change_of_role_takes_the_user_over_by_hand(app, fake, client, login):
    grant(app, "department", 2, "staff")
    sign_in(app.test_client(), fake, "lisi")
    made = user(app, "lisi")
    login("admin")
    client.post(f"/users/{made.id}", data={"role": "manager", "active": "y", "wecom_userid": "lisi",
                                           "password_login": ""})
    changed = user(app, "lisi")
    assert (changed.role, changed.granted_by_id) == ("manager", None)
    fake.move_user("lisi", [3])  # out of the granted department: no matter now
    read_directory(app)
    browser = app.test_client()
    assert sign_in(browser, fake, "lisi").status_code == 302 and whoami(browser) == "lisi"


# --- the grants panel ---


def test_an_admin_grants_by_name_or_id_and_mistakes_are_said_at_the_field(app, client, login):
    login("admin")
    response = client.post("/users/grants", data={"kind": "department", "target": "研发部", "role": "manager"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/users#grants")
    assert client.post("/users/grants", data={"kind": "tag", "target": "1", "role": "staff"}).status_code == 302
    with app.app_context():
        assert {(g.kind, g.wecom_id, g.role, g.created_by.username) for g in wecom_access.grants()} == {
            ("department", 2, "manager", "admin"), ("tag", 1, "staff", "admin")}
    for data, words in [({"kind": "department", "target": "研发部"}, "has a role already"),
                        ({"kind": "department", "target": "人力资源部"}, "No department or tag is called"),
                        ({"kind": "tag", "target": "99"}, "No department or tag 99"),
                        ({"kind": "department", "target": ""}, "This field is required")]:
        response = client.post("/users/grants", data={"role": "staff", **data})
        assert response.status_code == 422 and words in response.get_data(as_text=True), data
    assert [r["role"] for r in audits(app, "role_grant_added")] == ["manager", "staff"]


def test_the_panel_suggests_the_directorys_names(client, login):
    login("admin")
    page = client.get("/users").get_data(as_text=True)
    assert '<datalist id="directory-groups">' in page and '<option value="后台组">' in page
    assert '<option value="managers">' in page and "No grants" in page


@pytest.mark.parametrize("who", ["staff", "manager"])
def test_only_admins_grant_and_remove(app, client, login, who):
    existing = grant(app, "department", 2, "staff")
    login(who)
    assert client.post("/users/grants", data={"kind": "department", "target": "3", "role": "admin"}).status_code == 403
    assert client.post(f"/users/grants/{existing}/remove").status_code == 403
    with app.app_context():
        assert [g.id for g in wecom_access.grants()] == [existing]


def test_removing_a_grant_needs_the_csrf_token(tmp_path, fake):
    with wired(tmp_path, fake, WTF_CSRF_ENABLED=True) as app:
        existing = grant(app, "department", 2, "staff")
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
        assert client.post(f"/users/grants/{existing}/remove").status_code == 400
        with app.app_context():
            assert db.session.get(RoleGrant, existing) is not None


# --- the users page: the WeCom userid, password sign-in ---


def test_a_user_made_on_the_users_page_with_a_wecom_userid_and_no_password(app, fake, client, login):
    login("admin")
    response = client.post("/users/new", data={"username": "wang", "role": "staff", "wecom_userid": "王五",
                                               "password": ""})
    assert response.status_code == 302
    made = user(app, "wang")
    assert (made.wecom_userid, made.password_login) == ("wangwu", False)  # the name looked up
    browser = app.test_client()
    assert sign_in(browser, fake, "wangwu").status_code == 302 and whoami(browser) == "wang"
    refusal = client.post("/users/new", data={"username": "x", "role": "staff", "password": ""})
    assert refusal.status_code == 422 and "Give a password, or a WeCom userid" in refusal.get_data(as_text=True)


def test_one_member_is_linked_to_one_user(app, client, login):
    login("admin")
    with app.app_context():
        staff = db.session.scalar(db.select(User).filter_by(username="staff"))
        staff.wecom_userid = "lisi"
        db.session.commit()
        manager_id = db.session.scalar(db.select(User.id).filter_by(username="manager"))
    response = client.post(f"/users/{manager_id}", data={"role": "manager", "active": "y", "wecom_userid": "LISI"})
    assert response.status_code == 200 and "Another user is linked to the WeCom member “lisi”" in response.get_data(
        as_text=True)
    page = client.post("/users/new", data={"username": "y", "role": "staff", "wecom_userid": "lisi",
                                           "password": PASSWORD}).get_data(as_text=True)
    assert "Another user is linked" in page
    login("manager")
    assert "Another user is linked" in client.post("/account/wecom-userid", data={"wecom_userid": "lisi"}).get_data(
        as_text=True)


def test_an_admin_links_a_user_and_turns_password_sign_in_off(app, fake, client, login):
    login("admin")
    staff_id = user(app, "staff").id
    page = client.get(f"/users/{staff_id}").get_data(as_text=True)
    assert 'name="wecom_userid"' in page and 'name="password_login"' in page and "checked" in page
    response = client.post(f"/users/{staff_id}", data={"role": "staff", "active": "y", "wecom_userid": "lisi"})
    assert response.status_code == 302
    linked = user(app, "staff")
    assert (linked.wecom_userid, linked.password_login) == ("lisi", False)
    changed = audits(app, "user_changed")[-1]
    assert changed["wecom_userid"] == [None, "lisi"] and changed["password_login"] == [True, False]
    staff = app.test_client()
    page = staff.post("/login", data={"username": "staff", "password": PASSWORD}).get_data(as_text=True)
    assert "Password sign-in is off for this user: sign in with WeCom." in page
    assert sign_in(staff, fake, "lisi").status_code == 302 and whoami(staff) == "staff"
    # the user cannot move the link themselves: it is how they sign in
    refusal = staff.post("/account/wecom-userid", data={"wecom_userid": "wangwu"}).get_data(as_text=True)
    assert "only an admin changes it" in refusal and user(app, "staff").wecom_userid == "lisi"


def test_without_a_wecom_userid_password_sign_in_stays_on(app, client, login):
    login("admin")
    manager_id = user(app, "manager").id
    client.post(f"/users/{manager_id}", data={"role": "manager", "active": "y", "wecom_userid": ""})
    assert user(app, "manager").password_login is True
    assert app.test_client().post("/login", data={"username": "manager", "password": PASSWORD}).status_code == 302


def test_a_grant_is_audited_with_its_actor(app, client, login):
    login("admin")
    client.post("/users/grants", data={"kind": "department", "target": "2", "role": "staff"})
    with app.app_context():
        row = db.session.scalar(db.select(AuditLog).filter_by(action="role_grant_added"))
        assert (row.actor_name, row.object_type, row.details["wecom_id"]) == ("admin", "rolegrant", 2)


def test_the_last_admin_let_in_by_a_grant_stays_an_admin_when_their_grants_change(tmp_path, fake):
    with wired(tmp_path, fake, users=False) as app:
        read_directory(app)
        grant(app, "department", 2, "admin")
        grant(app, "department", 3, "staff")
        sign_in(app.test_client(), fake, "lisi")
        fake.move_user("lisi", [3])
        read_directory(app)
        browser = app.test_client()
        assert sign_in(browser, fake, "lisi").status_code == 302 and browser.get("/users").status_code == 200
        assert user(app, "lisi").role == "admin"
