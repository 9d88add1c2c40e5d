"""Test send to yourself: the user's own WeCom userid (account page), the check page's test form,
ids the directory does not know refused at the field, and the sandbox's answer to an unknown user."""
import re

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import undefer

from dashboard.campaigns import delivery, service
from dashboard.extensions import db
from dashboard.models import Campaign, User
from dashboard.sandbox import seed_directory
from tests.campaign_factories import make_campaign, wired
from tests.conftest import PASSWORD, make_app
from tests.fake_wecom import FakeWeCom


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        yield app


@pytest.fixture
def draft(app):
    with app.app_context():
        return make_campaign({"users": ["lisi", "wangwu"]}).id


def read_directory(app):
    with app.app_context():
        service.refresh_directory(actor="test")


def set_own(app, username, userid):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username=username)).wecom_userid = userid
        db.session.commit()


def own(app, username):
    with app.app_context():
        return db.session.scalar(db.select(User.wecom_userid).filter_by(username=username))


def userids_input(page: str) -> str:
    """The test form's user ids input."""
    return re.search(r'<input[^>]*name="userids"[^>]*>', page)[0]


def sent_tests(app, campaign_id):
    """The draft's test sends, their recipients loaded (read after the context ends)."""
    with app.app_context():
        return db.session.scalars(db.select(Campaign).filter_by(parent_id=campaign_id, is_test=True)
                                  .options(undefer(Campaign.recipients))).all()


def test_the_test_goes_to_the_users_own_wecom_userid_by_default(app, client, login, draft):
    set_own(app, "staff", "zhaoliu")
    login("staff")
    page = client.get(f"/campaigns/{draft}/check").get_data(as_text=True)
    assert 'value="zhaoliu"' in userids_input(page) and "Give your WeCom userid" not in page


def test_without_one_the_field_is_empty_and_asks_for_it(client, login, draft):
    login("staff")
    page = client.get(f"/campaigns/{draft}/check").get_data(as_text=True)
    field = userids_input(page)
    assert 'value=""' in field and 'placeholder="Give your WeCom userid"' in field
    assert f'href="/account?next=/campaigns/{draft}/check#wecom-userid"' in page
    assert 'name="remember"' in page


def test_an_id_the_directory_does_not_know_is_refused_at_the_field(app, fake, client, login, draft):
    read_directory(app)
    login("staff")
    response = client.post(f"/campaigns/{draft}/test", data={"userids": "lisi, admin"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # the check page again, not a redirect with a flash
    assert "is-invalid" in userids_input(page) and 'value="lisi, admin"' in userids_input(page)
    assert re.search(r'name="userids"[^>]*>\s*<div class="invalid-feedback">No member “admin” in the directory.',
                     page)
    assert 'id="check-recipients"' in page and not sent_tests(app, draft) and not fake.calls("/message/send")


def test_a_known_id_or_name_reaches_wecom_and_can_be_remembered(app, fake, client, login, draft):
    read_directory(app)
    login("staff")
    response = client.post(f"/campaigns/{draft}/test", data={"userids": "李四", "remember": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/campaigns/{draft}/check")
    [test] = sent_tests(app, draft)
    assert test.recipients["users"] == ["lisi"] and own(app, "staff") == "lisi"
    with app.app_context():
        delivery.run(test.id)
    [call] = fake.calls("/message/send")
    assert call.body["touser"] == "lisi" and fake.deliveries["lisi"] == 1
    assert 'value="lisi"' in userids_input(client.get(f"/campaigns/{draft}/check").get_data(as_text=True))


def test_before_the_directory_is_read_a_well_formed_id_is_taken_as_it_is(app, client, login, draft):
    login("staff")
    assert client.post(f"/campaigns/{draft}/test", data={"userids": "new.hire"}).status_code == 302
    assert [t.recipients["users"] for t in sent_tests(app, draft)] == [["new.hire"]]
    assert own(app, "staff") is None  # not asked to remember it


def test_the_account_page_keeps_my_wecom_userid_checked_against_the_directory(app, client, login):
    login("manager")
    assert client.post("/account/wecom-userid", data={"wecom_userid": "bad id!"}).status_code == 422
    read_directory(app)
    refused = client.post("/account/wecom-userid", data={"wecom_userid": "admin"})
    assert refused.status_code == 422 and "No member “admin” in the directory." in refused.get_data(as_text=True)
    assert own(app, "manager") is None
    saved = client.post("/account/wecom-userid", data={"wecom_userid": "王五", "next": "/campaigns/"})
    assert saved.headers["Location"] == "/campaigns/" and own(app, "manager") == "wangwu"
    assert 'value="wangwu"' in client.get("/account").get_data(as_text=True)
    client.post("/account/wecom-userid", data={"wecom_userid": "", "next": "https://evil.example/"})
    assert own(app, "manager") is None


def test_admins_see_a_users_wecom_userid(app, client, login):
    read_directory(app)
    set_own(app, "staff", "lisi")
    login("admin")
    with app.app_context():
        staff_id = db.session.scalar(db.select(User.id).filter_by(username="staff"))
    page = client.get(f"/users/{staff_id}").get_data(as_text=True)
    assert '<span class="person" title="lisi">李四</span>' in page


def test_the_sandbox_answers_an_unknown_user_with_the_members_to_choose_from(tmp_path):
    app = make_app(tmp_path)  # no WeCom credentials: sandbox mode
    with app.app_context():
        from dashboard.auth.service import create_user
        create_user("staff", "staff", PASSWORD)
        seed_directory()
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "staff", "password": PASSWORD})
    response = client.get("/sandbox/?user=admin")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "data-feed-url" not in page
    assert "No member <strong>admin</strong> in the sandbox directory." in page
    assert 'href="/sandbox/?user=emma.wilson"' in page and "张伟" in page
    assert "&lt;b&gt;" in client.get("/sandbox/?user=<b>").get_data(as_text=True)
    assert client.get("/sandbox/?user=emma.wilson").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_the_migration_adds_and_removes_the_column(tmp_path):
    from tests import databases

    url = databases.database_url(tmp_path, empty=True)
    app = create_bare_app(tmp_path, url)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert "wecom_userid" in user_columns(app)
    result = runner.invoke(args=["db", "downgrade", "b2d5f8c03e21"])
    assert result.exit_code == 0, result.output
    assert "wecom_userid" not in user_columns(app)
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0 and "wecom_userid" in user_columns(app)


def create_bare_app(tmp_path, url):
    from dashboard import create_app

    return create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url,
                       "INSTANCE_PATH": str(tmp_path / "instance")})


def user_columns(app) -> set[str]:
    with app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("user")}
        db.engine.dispose()
    return columns
