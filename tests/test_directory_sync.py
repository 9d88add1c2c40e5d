"""The directory keeps itself current (issue 18): whole reads against the fake WeCom over real
HTTP, first need, the periodic sync, a failed read, hidden names, the API and the check's snapshot."""
import io
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from dashboard.campaigns import queries, service
from dashboard.directory import jobs, snapshot, sync
from dashboard.directory import service as directory_service
from dashboard.extensions import db
from dashboard.models import (AuditLog, Campaign, Delivery, DirectoryChange, DirectoryDepartment,
                              DirectoryState, DirectoryUser, utcnow)
from dashboard.wecom.errors import ApiError
from tests.campaign_factories import card_version, make_campaign, wired
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom
from tests.test_api import issue_token
from tests.test_directory_callback import change_xml, post


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        yield app


def read(app):
    with app.app_context():
        return sync.run(actor="test")


def names(app) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(db.select(DirectoryUser.userid, DirectoryUser.name)).all())


def test_a_read_asks_each_department_for_its_own_members_and_expands_subtrees_itself(app, fake):
    fake.add_department(4, "后台组", 2)
    fake.add_user("sunqi", "孙七", [4])
    result = read(app)
    assert (result.departments, result.users, result.tags) == (4, 5, 1)
    calls = fake.calls("/user/simplelist")
    assert sorted(int(c.query["department_id"]) for c in calls) == [1, 2, 3, 4]
    assert not any("fetch_child" in c.query for c in calls)  # the documented call takes none
    assert fake.calls("/department/simplelist")
    with app.app_context():
        assert sorted(snapshot.load().members([2])) == ["lisi", "sunqi", "wangwu"]  # 4 is under 2
        state = snapshot.state()
        assert state.read_at and state.version == 1 and state.error is None
    assert names(app)["sunqi"] == "孙七"


def test_user_list_id_is_read_page_by_page_and_a_refusal_falls_back(tmp_path):
    with FakeWeCom(list_id_page=3) as fake, wired(tmp_path / "paged", fake) as app:
        assert read(app).users == 4
        pages = fake.calls("/user/list_id")
        assert len(pages) == 2 and "cursor" not in (pages[0].body or {})
        assert pages[1].body["cursor"]
    with FakeWeCom(list_id_forbidden=True) as fake, wired(tmp_path / "refused", fake) as app:
        assert read(app).users == 4  # every department's members, as without user/list_id


def test_a_failed_read_keeps_the_last_good_copy_and_says_so(app, fake, client, login):
    read(app)
    fake.remove_user("zhaoliu")
    fake.fail_next(60011, path="/tag/list")
    with pytest.raises(ApiError), app.app_context():
        sync.run(actor="test")
    assert "zhaoliu" in names(app)  # the old copy, whole
    with app.app_context():
        state = snapshot.state()
        assert state.error.startswith("60011") and state.running_since is None
        assert directory_service.status()["users"] == 4
    login("admin")
    page = client.get("/settings/").get_data(as_text=True)
    assert "The last read failed" in page and "60011" in page
    read(app)
    assert "zhaoliu" not in names(app)
    with app.app_context():
        assert snapshot.state().error is None


def test_a_reader_during_a_read_sees_the_old_copy_or_the_new_one_never_half(tmp_path):
    first = [f"a{i:04d}" for i in range(1500)]
    with FakeWeCom(users=first) as fake, wired(tmp_path, fake) as app:
        read(app)
        for i in range(1500):
            fake.add_user(f"b{i:04d}", f"B{i}", [1])
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        seen, done = set(), threading.Event()

        def watch():
            with engine.connect() as conn:
                while not done.is_set():
                    seen.add(conn.execute(text("SELECT count(*) FROM directory_user")).scalar())
                    conn.rollback()

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            read(app)
        finally:
            done.set()
            watcher.join()
            engine.dispose()
    assert seen and seen <= {1500, 3000}


def test_the_periodic_sync_reads_when_due_and_backs_off_after_a_failure(app, fake):
    with app.app_context():
        assert sync.due()  # never read
        app.extensions["huey"].immediate = True
        jobs._sync()
        assert snapshot.state().read_at is not None and not sync.due()
        later = utcnow() + timedelta(seconds=app.config["DIRECTORY_SYNC_INTERVAL"] + 1)
        assert sync.due(later)
        db.session.execute(db.update(DirectoryState).values(error="x", error_at=later))
        db.session.commit()
        assert not sync.due(later + timedelta(minutes=1))  # a failure is not hammered
        assert sync.due(later + timedelta(minutes=11))
        app.config["DIRECTORY_SYNC_INTERVAL"] = 0
        assert not sync.due(later + timedelta(days=30))  # periodic reads off


def test_a_first_read_that_failed_is_retried_soon_and_the_waiting_page_says_why(app, fake, client, login):
    fake.fail_next(60011, path="/department/simplelist")
    app.extensions["huey"].immediate = True
    login("staff")
    page = client.get("/directory/reading?next=/campaigns/")
    assert page.status_code == 200  # the read ran and failed: nothing to go on to
    body = page.get_data(as_text=True)
    assert 'data-failed-url="/directory/reading?next=/campaigns/&amp;failed=1"' in body
    failed = client.get("/directory/reading?next=/campaigns/&failed=1").get_data(as_text=True)
    assert "The last read failed" in failed and "60011" in failed and 'data-failed="1"' in failed
    with app.app_context():
        error_at = snapshot.state().error_at
        assert not sync.due(error_at + timedelta(seconds=10))
        assert sync.due(error_at + timedelta(seconds=31))  # never read: retried after 30 s
    assert client.get("/directory/reading?next=/campaigns/").headers["Location"] == "/campaigns/"


def test_hidden_names_show_userids_explain_and_an_import_names_them(tmp_path):
    with FakeWeCom(hide_names=True) as fake, wired(tmp_path, fake) as app:
        assert read(app).names_hidden
        assert names(app)["lisi"] == "lisi"
        with app.app_context():
            assert db.session.get(DirectoryDepartment, 2).name == "2"
        client = app.test_client()
        client.post("/login", data={"username": "admin", "password": PASSWORD})
        page = client.get("/directory/").get_data(as_text=True)
        assert 'id="names-hidden"' in page and "通讯录权限" in page
        settings = client.get("/settings/").get_data(as_text=True)
        panel = settings[settings.index('id="settings-directory"'):]
        panel = panel[:panel.index("Open the directory")]
        assert "grant it the contacts permission in the admin console" in panel
        export = "账号,姓名,部门\nlisi,李四,总部/研发部\nwangwu,王五,总部/研发部\nzhaoliu,赵六,总部/市场部\n"
        response = client.post("/directory/import", data={"export": (_file(export), "members.csv")},
                               content_type="multipart/form-data")
        assert response.status_code == 302
        assert names(app)["lisi"] == "李四"
        with app.app_context():
            assert db.session.get(DirectoryDepartment, 2).name == "研发部"
            assert db.session.get(DirectoryDepartment, 1).name == "总部"
            assert db.session.scalar(db.select(AuditLog.action).filter_by(action="directory_imported"))
        read(app)  # WeCom still gives no names: the imported ones stay
        assert names(app)["lisi"] == "李四"


def _file(text_: str):
    return io.BytesIO(text_.encode("utf-8-sig"))


# --- first need -----------------------------------------------------------------------------


def test_the_recipients_picker_waits_for_the_first_read_then_goes_on(app, fake, client, login):
    with app.app_context():
        campaign_id = make_campaign({"users": ["lisi"]}).id
    login("staff")
    response = client.get(f"/campaigns/{campaign_id}/recipients")
    assert response.status_code == 302 and "/directory/reading" in response.headers["Location"]
    app.extensions["huey"].immediate = True  # the worker's read, in this thread
    page = client.get(response.headers["Location"])
    assert page.status_code == 302  # read already: straight on
    assert page.headers["Location"].endswith(f"/campaigns/{campaign_id}/recipients")
    assert ">李四</option>" in client.get(page.headers["Location"]).get_data(as_text=True)  # the chip's name


def test_the_waiting_page_shows_progress_while_the_worker_reads(app, fake, client, login):
    login("staff")
    page = client.get("/directory/reading?next=/campaigns/").get_data(as_text=True)
    assert 'id="directory-reading"' in page and 'data-next="/campaigns/"' in page
    with app.app_context():
        assert app.extensions["huey"].pending_count() == 1  # the read is queued for the worker
    status = client.get("/directory/status").json
    assert status["read_at"] is None and status["reading"] is False
    zh = client.get("/directory/reading?next=/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "正在从企业微信同步通讯录" in zh and "Reading the directory" not in zh
    assert client.get("/directory/reading?next=https://evil.example/").status_code == 200
    assert 'data-next="https://evil' not in client.get(
        "/directory/reading?next=https://evil.example/").get_data(as_text=True)


def test_a_change_from_wecom_before_the_first_read_does_not_pass_for_a_read(app, fake, client):
    """A member joined a department the copy lacks before the directory was ever read (the first
    read failed, or periodic reads are off): the change waits for the first read, which brings it,
    instead of leaving a copy of one member that first need would take for the directory."""
    app.config["DIRECTORY_SYNC_INTERVAL"] = 0
    app.extensions["huey"].immediate = True  # the worker applies the change at once, if it may
    fake.add_user("newbie", "新人", [2])
    assert post(app, client, change_xml("create_user", int(time.time()) - 5, UserID="newbie",
                                        Department="2")).status_code == 200
    with app.app_context():
        assert snapshot.never_read() and snapshot.counts() == snapshot.Counts(0, 0, 0)
        campaign_id = make_campaign({"all": True}).id
    headers = {"Authorization": f"Bearer {issue_token(app, 'staff')}"}
    check = client.get(f"/api/v1/campaigns/{campaign_id}/check", headers=headers)
    assert check.status_code == 200 and check.json["recipients"] == 5  # first need read it whole
    with app.app_context():
        jobs._apply()  # the worker's next sweep settles the change: it is in the read
        change = db.session.scalar(db.select(DirectoryChange))
        assert change.applied_at is not None and change.outcome.startswith("in the read of")
        assert snapshot.counts().users == 5


# --- the API --------------------------------------------------------------------------------


def test_directory_api_state_refresh_and_members(app, fake):
    app.extensions["huey"].immediate = True
    token = issue_token(app, "staff")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    state = client.get("/api/v1/directory", headers=headers)
    assert state.status_code == 200 and state.json["read_at"] is None and state.json["users"] == 0
    started = client.post("/api/v1/directory/refresh", headers=headers)
    assert started.status_code == 202 and started.json["read_at"] and started.json["users"] == 4
    members = client.get("/api/v1/directory/members?department=2", headers=headers).json
    assert [m["userid"] for m in members["items"]] == ["lisi", "wangwu"] or \
        sorted(m["userid"] for m in members["items"]) == ["lisi", "wangwu"]
    assert members["total"] == 2 and members["items"][0]["departments"] == [2]
    tagged = client.get("/api/v1/directory/members?tag=1", headers=headers).json
    assert sorted(m["userid"] for m in tagged["items"]) == ["zhangsan", "zhaoliu"]  # user + party 3
    found = client.get("/api/v1/directory/members?q=%E6%9D%8E", headers=headers).json  # 李
    assert [m["userid"] for m in found["items"]] == ["lisi"]
    paged = client.get("/api/v1/directory/members?per_page=3&page=2", headers=headers).json
    assert paged["total"] == 4 and len(paged["items"]) == 1
    bad = client.get("/api/v1/directory/members?department=x", headers=headers)
    assert bad.status_code == 422 and bad.json["errors"][0]["path"] == "department"
    spec = client.get("/api/v1/openapi.json").json
    assert {"/directory", "/directory/refresh", "/directory/members"} <= set(spec["paths"])
    manager = issue_token(app, "manager")
    assert client.post("/api/v1/directory/refresh",
                       headers={"Authorization": f"Bearer {manager}"}).status_code == 403


# --- the check's snapshot -------------------------------------------------------------------


def test_a_send_goes_to_the_people_checked_or_shows_what_changed(app, fake, client, login):
    read(app)
    with app.app_context():
        campaign_id = make_campaign({"departments": [2]}).id
    login("staff")
    assert client.get(f"/campaigns/{campaign_id}/check").status_code == 200
    with app.app_context():
        assert sorted(db.session.get(Campaign, campaign_id).checked_userids) == ["lisi", "wangwu"]
    fake.add_user("newbie", "新人", [2])
    fake.add_user("other", "别人", [3])
    read(app)
    response = client.post(f"/campaigns/{campaign_id}/send", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The directory changed since you checked" in page and "1 person joined 研发部" in page
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.status == "draft"  # shown the check again, now with newbie
        assert "newbie" in campaign.checked_userids
    client.post(f"/campaigns/{campaign_id}/send")
    with app.app_context():
        people = db.session.scalars(db.select(Delivery.userid).filter_by(campaign_id=campaign_id)).all()
        assert sorted(people) == ["lisi", "newbie", "wangwu"]


def test_a_change_elsewhere_in_the_directory_does_not_stop_a_send(app, fake):
    read(app)
    with app.app_context():
        campaign = make_campaign({"departments": [2]})
        service.record_check(campaign, queries.check(campaign).userids)
        db.session.commit()
        campaign_id = campaign.id
    fake.add_user("other", "别人", [3])
    read(app)
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert queries.changed_since_check(campaign, queries.check(campaign)) == []
        service.send(campaign, actor="test")
        assert campaign.status == "sending"


def test_a_check_through_the_api_is_kept_as_the_check_pages_is(app, fake, client, login):
    """Checked on the page, the directory changed, checked again through the API: the send goes
    to the people the API's check counted (it was refused with 409 on every try before)."""
    read(app)
    with app.app_context():
        campaign_id = make_campaign({"departments": [2]}).id
    login("staff")
    assert client.get(f"/campaigns/{campaign_id}/check").status_code == 200
    fake.add_user("newbie", "新人", [2])
    read(app)
    headers = {"Authorization": f"Bearer {issue_token(app, 'staff')}"}
    api = app.test_client()
    assert api.post(f"/api/v1/campaigns/{campaign_id}/send", headers=headers).status_code == 409
    checked = api.get(f"/api/v1/campaigns/{campaign_id}/check", headers=headers)
    assert checked.status_code == 200 and checked.json["recipients"] == 3
    assert api.post(f"/api/v1/campaigns/{campaign_id}/send", headers=headers).status_code == 202
    with app.app_context():
        people = db.session.scalars(db.select(Delivery.userid).filter_by(campaign_id=campaign_id)).all()
        assert sorted(people) == ["lisi", "newbie", "wangwu"]


def test_a_send_through_the_api_reads_a_directory_never_read(app, fake):
    token = issue_token(app, "staff")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        campaign_id = make_campaign({"departments": [2]}).id
    sent = client.post(f"/api/v1/campaigns/{campaign_id}/send", headers=headers)
    assert sent.status_code == 202, sent.json
    with app.app_context():
        people = db.session.scalars(db.select(Delivery.userid).filter_by(campaign_id=campaign_id)).all()
        assert sorted(people) == ["lisi", "wangwu"] and snapshot.state().read_at is not None
