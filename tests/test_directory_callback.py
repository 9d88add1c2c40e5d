"""WeCom's change_contact callbacks through the real route (issue 18, point 3): verified, stored
exactly once with the card events, applied to the directory by the worker, listed on the
diagnostics page."""
import threading
import time

import pytest

from dashboard.directory import jobs, snapshot, sync
from dashboard.extensions import db
from dashboard.models import CardEvent, DirectoryChange, DirectoryUser
from dashboard.wecom.crypto import CallbackCrypto
from tests.campaign_factories import wired
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        with app.app_context():
            sync.run(actor="test")
        app.extensions["huey"].immediate = True  # the worker applies each change at once
        yield app


def change_xml(change_type: str, create_time: int, **fields) -> str:
    elements = "".join(f"<{name}><![CDATA[{value}]]></{name}>" for name, value in fields.items())
    return (f"<xml><ToUserName><![CDATA[corp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[{change_type}]]></ChangeType>"
            f"{elements}</xml>")


def post(app, client, xml: str):
    crypto = CallbackCrypto(app.config["WECOM_TOKEN"], app.config["WECOM_AES_KEY"],
                            app.config["WECOM_CORP_ID"])
    query, body = crypto.encrypt_message(xml, nonce="13579")
    return client.post("/wecom/callback", query_string=query, data=body, content_type="text/xml")


def member(app, userid):
    with app.app_context():
        user = db.session.get(DirectoryUser, userid)
        return user and (user.name, user.departments)


def test_a_member_added_in_wecom_is_in_the_directory_at_once(app, client):
    now = int(time.time()) + 5  # after the read
    assert post(app, client, change_xml("create_user", now, UserID="newbie", Name="新人",
                                        Department="2,3")).status_code == 200
    assert member(app, "newbie") == ("新人", [2, 3])
    with app.app_context():
        change = db.session.scalar(db.select(DirectoryChange))
        assert change.applied_at and change.change_type == "create_user"
        assert db.session.scalar(db.select(CardEvent.event).filter_by(dedupe_key=change.dedupe_key)) \
            == "change_contact"


def test_a_retry_is_stored_once_and_two_changes_in_one_second_both(app, client):
    now = int(time.time()) + 5
    xml = change_xml("create_user", now, UserID="a1", Name="甲", Department="2")
    assert post(app, client, xml).status_code == 200
    assert post(app, client, xml).status_code == 200  # WeCom's retry
    post(app, client, change_xml("create_user", now, UserID="b1", Name="乙", Department="2"))
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DirectoryChange)) == 2
    assert member(app, "a1") and member(app, "b1")


def test_the_diagnostics_page_lists_the_changes(app, client):
    now = int(time.time()) + 5
    post(app, client, change_xml("update_user", now, UserID="lisi", NewUserID="lisi2"))
    post(app, client, change_xml("delete_user", now + 1, UserID="wangwu"))
    assert member(app, "lisi2") and not member(app, "lisi") and not member(app, "wangwu")
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    page = client.get("/settings/").get_data(as_text=True)
    table = page[page.index('id="directory-changes"'):]
    assert "Member changed" in table and "lisi → lisi2" in table and "Member deleted" in table
    assert "change_contact" in page[page.index('id="callback-log"'):]  # with the card events


def test_a_change_applied_while_a_whole_read_runs_survives_the_read(app, client, fake):
    """The read listed department 2 before a member joined it; WeCom's change_contact for the
    join came while the read was still going and was applied at once. Replacing the copy with
    the read must not drop the member: the change is applied again on top of the new copy."""
    tag_reads = len(fake.calls("/tag/get"))
    with app.app_context():
        read_before = snapshot.state().read_at
    fake.hang_next(1.5, path="/tag/get")  # the read pauses after every department's members

    def worker_read():
        with app.app_context():
            jobs.read("test")  # the worker's job (the queue runs it in place)

    reader = threading.Thread(target=worker_read)
    reader.start()
    try:
        deadline = time.monotonic() + 5
        while len(fake.calls("/tag/get")) == tag_reads and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(fake.calls("/tag/get")) > tag_reads, "the read never reached the tags"
        post(app, client, change_xml("create_user", int(time.time()) + 1, UserID="newbie", Name="新人",
                                     Department="2"))
        assert member(app, "newbie") == ("新人", [2])  # applied while the read runs
    finally:
        reader.join()
    with app.app_context():
        assert snapshot.state().read_at > read_before  # the read ended and replaced the copy
        assert snapshot.counts().users == 5
    assert member(app, "newbie") == ("新人", [2])
