"""WeCom's change_contact callbacks applied to the cached directory (issue 18, points 3 and 7):
every change type, in CreateTime order, also when they arrive out of order or twice; a member
renamed by NewUserID keeps their report history; what the copy lacks is read from the fake WeCom
over real HTTP."""
import random
from datetime import datetime, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from dashboard.directory import snapshot
from dashboard.directory.changes import apply_pending, rename_history
from dashboard.extensions import db
from dashboard.models import (Campaign, CardEvent, CurrentAnswer, Delivery, DirectoryChange, DirectoryDepartment,
                              DirectoryStamp, DirectoryTag, DirectoryUser, Respondent, ResponseCode, utcnow)
from dashboard.wecom.client import WeComClient
from dashboard.wecom.events import parse_event
from tests.campaign_factories import card_version
from tests.fake_wecom import DEPARTMENTS, TAGS, USERS, FakeWeCom

T = 1_700_000_000  # CreateTime of the first change in each test


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def wecom(fake):
    client = WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url, timeout=(1, 5))
    yield client
    client.close()


@pytest.fixture
def ctx(app):
    """An app context on a copy holding the fake's directory, as a whole read leaves it."""
    with app.app_context():
        seed()
        yield


def seed() -> None:
    for model in (DirectoryChange, DirectoryStamp, DirectoryUser, DirectoryDepartment, DirectoryTag):
        db.session.execute(db.delete(model))
    db.session.add_all(DirectoryDepartment(id=d["id"], name=d["name"], parent_id=d["parentid"],
                                           sort_order=d["order"]) for d in DEPARTMENTS)
    db.session.add_all(DirectoryUser(userid=u["userid"], name=u["name"], departments=u["department"])
                       for u in USERS)
    db.session.add_all(DirectoryTag(id=t["tagid"], name=t["tagname"], userids=t["userlist"],
                                    department_ids=t["partylist"]) for t in TAGS)
    db.session.commit()


def change_xml(change_type: str, create_time: int, **elements) -> str:
    body = "".join(f"<{name}><![CDATA[{value}]]></{name}>" for name, value in elements.items())
    return (f"<xml><ToUserName><![CDATA[wwfakecorp0001]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[change_contact]]></Event><ChangeType>{change_type}</ChangeType>{body}</xml>")


def store(xml: str) -> DirectoryChange:
    """Store a callback's change as the callback route does: parsed, its fields as data (commits)."""
    change = parse_event(xml)
    row = DirectoryChange(dedupe_key=change.dedupe_key, change_type=change.change_type,
                          create_time=change.create_time, data=change.fields())
    db.session.add(row)
    db.session.commit()
    return row


def queue(change_type: str, create_time: int = T, **elements) -> DirectoryChange:
    return store(change_xml(change_type, create_time, **elements))


def copy() -> dict:
    """The cached directory, comparable."""
    return {
        "users": {u.userid: (u.name, sorted(u.departments)) for u in db.session.scalars(db.select(DirectoryUser))},
        "departments": {d.id: (d.name, d.parent_id, d.sort_order)
                        for d in db.session.scalars(db.select(DirectoryDepartment))},
        "tags": {t.id: (t.name, sorted(t.userids), sorted(t.department_ids))
                 for t in db.session.scalars(db.select(DirectoryTag))},
    }


def user(userid: str) -> tuple | None:
    return copy()["users"].get(userid)


# --- members ---------------------------------------------------------------------------------------


def test_create_user_with_its_fields_needs_no_read(ctx, wecom, fake):
    row = queue("create_user", UserID="xiaoming", Name="小明", Department="2,3")
    version = snapshot.version()
    assert apply_pending(wecom) == 1
    assert user("xiaoming") == ("小明", [2, 3])
    assert (row.outcome, row.applied_at is not None) == ("member xiaoming added in 2 departments", True)
    assert snapshot.version() == version + 1
    assert fake.calls("/user/get") == []


def test_create_user_without_a_name_reads_the_member(ctx, wecom, fake):
    """Callback URLs set up after 2022-08-15 get only UserID and Department."""
    fake.add_user("xiaoming", "小明", [3])
    queue("create_user", UserID="xiaoming", Department="3")
    apply_pending(wecom)
    assert user("xiaoming") == ("小明", [3])
    assert [c.query["userid"] for c in fake.calls("/user/get")] == ["xiaoming"]


def test_update_user_changes_only_what_it_names(ctx, wecom):
    row = queue("update_user", UserID="lisi", Department="2,3")
    apply_pending(wecom)
    assert user("lisi") == ("李四", [2, 3]) and row.outcome == "member lisi joined 1 department"
    row = queue("update_user", T + 1, UserID="lisi", Name="李四光")
    apply_pending(wecom)
    assert user("lisi") == ("李四光", [2, 3]) and row.outcome == "member lisi name changed"


def test_an_update_of_a_member_never_seen_reads_them(ctx, wecom, fake):
    fake.add_user("newbie", "新人", [1, 3])
    queue("update_user", UserID="newbie", Name="新人")
    apply_pending(wecom)
    assert user("newbie") == ("新人", [1, 3])
    assert len(fake.calls("/user/get")) == 1


def test_an_unknown_department_is_read_and_added(ctx, wecom, fake):
    fake.add_department(9, "新部门", 2, order=70)
    queue("update_user", UserID="lisi", Department="2,9")
    apply_pending(wecom)
    assert user("lisi") == ("李四", [2, 9])
    assert copy()["departments"][9] == ("新部门", 2, 70)
    assert [c.query["id"] for c in fake.calls("/department/get")] == ["9"]


def test_a_member_wecom_no_longer_knows_is_not_added(ctx, wecom):
    row = queue("create_user", UserID="ghost", Department="1")
    assert apply_pending(wecom) == 1
    assert user("ghost") is None and row.outcome == "member ghost is no longer in WeCom"


def test_delete_user_removes_the_member_and_their_tags(ctx, wecom):
    db.session.get(DirectoryTag, 1).userids = ["zhangsan", "lisi"]
    db.session.commit()
    row = queue("delete_user", UserID="lisi")
    apply_pending(wecom)
    assert user("lisi") is None and copy()["tags"][1][1] == ["zhangsan"]
    assert row.outcome == "member lisi removed"
    assert db.session.get(DirectoryStamp, ("user", "lisi")).deleted


# --- a new userid keeps the report history ----------------------------------------------------------


def history_of(userid: str) -> dict:
    return {
        "deliveries": db.session.scalar(db.select(db.func.count()).where(Delivery.userid == userid)),
        "respondents": db.session.scalar(db.select(db.func.count()).where(Respondent.userid == userid)),
        "answers": db.session.scalar(db.select(db.func.count()).where(CurrentAnswer.userid == userid)),
        "codes": db.session.scalar(db.select(db.func.count()).where(ResponseCode.userid == userid)),
        "events": db.session.scalar(db.select(db.func.count()).where(CardEvent.from_user == userid)),
    }


def report_history(userid: str, campaign_id: int, n: int) -> None:
    """A delivery, an answer and its summaries in campaign ``campaign_id``."""
    now = utcnow()
    db.session.add_all([
        Delivery(campaign_id=campaign_id, userid=userid, state="accepted"),
        Respondent(campaign_id=campaign_id, userid=userid, first_time=T, last_time=T, answers=1),
        CurrentAnswer(campaign_id=campaign_id, userid=userid, question_key="q", option_id="a", first_option=True,
                      event_id=n, create_time=T),
        ResponseCode(code=f"rc-{userid}-{n}", campaign_id=campaign_id, userid=userid, source="callback",
                     expires_at=now, created_at=now),
        CardEvent(dedupe_key=f"ev-{userid}-{n}", campaign_id=campaign_id, from_user=userid, msg_type="event",
                  event="template_card_event", create_time=T, received_at=now),
    ])


def campaigns(n: int) -> list[int]:
    version = card_version()
    rows = [Campaign(name=f"poll {i}", card_version_id=version.id, recipients={}) for i in range(n)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def test_a_new_userid_keeps_the_report_history(ctx, wecom, fake):
    first, second = campaigns(2)
    report_history("zhangsan", first, 1)
    report_history("zhangsan", second, 2)
    report_history("lisi", first, 3)
    db.session.commit()
    row = queue("update_user", UserID="zhangsan", NewUserID="zhangsan2")
    apply_pending(wecom)
    assert history_of("zhangsan") == dict.fromkeys(("deliveries", "respondents", "answers", "codes", "events"), 0)
    assert history_of("zhangsan2") == dict.fromkeys(("deliveries", "respondents", "answers", "codes", "events"), 2)
    assert history_of("lisi")["deliveries"] == 1
    assert user("zhangsan") is None and user("zhangsan2") == ("张三", [1])
    assert copy()["tags"][1][1] == ["zhangsan2"]
    assert row.outcome == "renamed zhangsan → zhangsan2, 10 report rows moved"
    assert fake.calls("/user/get") == []


def test_a_rename_skips_rows_that_would_collide(ctx):
    """Both userids in one campaign (a send after the change, before we heard of it): both rows stay."""
    (campaign,) = campaigns(1)
    report_history("zhangsan", campaign, 1)
    report_history("zhangsan2", campaign, 2)
    db.session.commit()
    assert rename_history("zhangsan", "zhangsan2") == 2  # the response code and the card event
    assert history_of("zhangsan") == {"deliveries": 1, "respondents": 1, "answers": 1, "codes": 0, "events": 0}


def test_a_rename_with_new_fields_applies_them_too(ctx, wecom):
    row = queue("update_user", UserID="zhangsan", NewUserID="zhangsan2", Name="张三丰", Department="1,2")
    apply_pending(wecom)
    assert user("zhangsan2") == ("张三丰", [1, 2])
    assert row.outcome == "renamed zhangsan → zhangsan2; member zhangsan2 name changed, joined 1 department"


# --- departments -------------------------------------------------------------------------------------


def test_create_update_and_delete_party(ctx, wecom, fake):
    created = queue("create_party", T, Id="4", Name="销售部", ParentId="1", Order="50")
    moved = queue("update_party", T + 1, Id="4", ParentId="3")
    renamed = queue("update_party", T + 2, Id="2", Name="研发中心")
    assert apply_pending(wecom) == 3
    assert copy()["departments"][4] == ("销售部", 3, 50) and copy()["departments"][2][0] == "研发中心"
    assert (created.outcome, moved.outcome, renamed.outcome) == (
        "department 4 added", "department 4 parent changed", "department 2 name changed")
    assert fake.calls("/department/get") == []


def test_an_update_of_a_department_never_seen_reads_it(ctx, wecom, fake):
    fake.add_department(8, "法务部", 1, order=10)
    queue("update_party", Id="8", ParentId="1")
    apply_pending(wecom)
    assert copy()["departments"][8] == ("法务部", 1, 10)


def test_delete_party_leaves_members_their_other_departments(ctx, wecom):
    db.session.get(DirectoryUser, "lisi").departments = [2, 3]
    db.session.commit()
    row = queue("delete_party", Id="3")
    apply_pending(wecom)
    assert 3 not in copy()["departments"]
    assert user("lisi") == ("李四", [2]) and user("zhaoliu") == ("赵六", [])
    assert copy()["tags"][1][2] == []  # the tag held department 3
    assert row.outcome == "department 3 removed, 2 members left it"


# --- tags ------------------------------------------------------------------------------------------


def test_update_tag_adds_and_removes(ctx, wecom):
    row = queue("update_tag", TagId="1", AddUserItems="lisi,wangwu", DelUserItems="zhangsan", AddPartyItems="2",
                DelPartyItems="3")
    apply_pending(wecom)
    assert copy()["tags"][1] == ("managers", ["lisi", "wangwu"], [2])
    assert row.outcome == "tag 1: 2 members added, 1 member removed, 1 department added, 1 department removed"


def test_a_tag_never_seen_is_read_whole(ctx, wecom, fake):
    fake.set_tag(5, ["lisi", "zhaoliu"], [2], tagname="新人导师")
    queue("update_tag", TagId="5", AddUserItems="zhaoliu")
    apply_pending(wecom)
    assert copy()["tags"][5] == ("新人导师", ["lisi", "zhaoliu"], [2])
    assert len(fake.calls("/tag/get")) == 1 and len(fake.calls("/tag/list")) == 1


# --- order, duplicates, reads, errors -----------------------------------------------------------------


def story(fake) -> list[str]:
    """Changes made in WeCom, oldest first; ``fake`` is left as WeCom is after all of them."""
    fake.add_department(4, "销售一部", 1, order=50)
    fake.add_user("xiaoming", "小明", [4])
    fake.move_user("lisi", [2, 4])
    fake.set_tag(1, ["zhangsan", "lisi"], [])
    fake.rename_user("zhangsan", "zhangsan2")
    fake.remove_user("wangwu")
    return [
        change_xml("create_party", T, Id=4, Name="销售部", ParentId=1, Order=50),
        change_xml("create_user", T + 1, UserID="xiaoming", Department=4),
        change_xml("update_user", T + 2, UserID="lisi", Department="2,4"),
        change_xml("update_tag", T + 2, TagId=1, AddUserItems="lisi", DelPartyItems=3),
        change_xml("update_user", T + 3, UserID="zhangsan", NewUserID="zhangsan2"),
        change_xml("delete_user", T + 3, UserID="wangwu"),
        change_xml("update_party", T + 4, Id=4, Name="销售一部"),
    ]


AFTER_THE_STORY = {
    "users": {"zhangsan2": ("张三", [1]), "lisi": ("李四", [2, 4]), "zhaoliu": ("赵六", [3]),
              "xiaoming": ("小明", [4])},
    "departments": {1: ("总部", 0, 100000), 2: ("研发部", 1, 99000), 3: ("市场部", 1, 98000),
                    4: ("销售一部", 1, 50)},
    "tags": {1: ("managers", ["lisi", "zhangsan2"], [])},
}


def test_changes_apply_in_create_time_order_whatever_order_they_arrived_in(ctx, wecom, fake):
    changes = story(fake)
    for order in range(4):
        seed()
        for xml in random.Random(order).sample(changes, len(changes)):
            store(xml)
        assert apply_pending(wecom) == len(changes)
        assert copy() == AFTER_THE_STORY, f"arrival order {order}"


def test_changes_applied_as_they_arrive_out_of_order_end_the_same(ctx, wecom, fake):
    """Each applied on arrival (a worker run after every callback): the stamps keep older news out."""
    changes = story(fake)
    for order in range(6):
        seed()
        for xml in random.Random(order).sample(changes, len(changes)):
            store(xml)
            apply_pending(wecom)
        assert copy() == AFTER_THE_STORY, f"arrival order {order}"


def test_duplicates_change_nothing(ctx, wecom, fake):
    changes = story(fake)
    for xml in changes:
        store(xml)
    with pytest.raises(IntegrityError):  # a retried callback is the same row
        store(changes[0])
    db.session.rollback()
    for xml in changes:  # the same changes again under other keys (e.g. sent to two apps)
        store(xml.replace("</xml>", "<AgentID>1000003</AgentID></xml>"))
    assert apply_pending(wecom) == 2 * len(changes)
    version = snapshot.version()
    assert copy() == AFTER_THE_STORY
    assert apply_pending(wecom) == 0 and snapshot.version() == version


def test_a_delete_that_came_first_keeps_the_older_create_out(ctx, wecom):
    queue("delete_user", T + 5, UserID="lisi")
    apply_pending(wecom)
    late = queue("update_user", T + 1, UserID="lisi", Name="李四光")
    assert apply_pending(wecom) == 1
    assert user("lisi") is None and late.outcome == "stale"
    queue("create_user", T + 9, UserID="lisi", Name="李四", Department="3")  # back, later
    apply_pending(wecom)
    assert user("lisi") == ("李四", [3])


def test_only_stale_changes_leave_the_version_alone(ctx, wecom):
    queue("update_user", T + 5, UserID="lisi", Name="李四光")
    apply_pending(wecom)
    version = snapshot.version()
    queue("update_user", T, UserID="lisi", Name="李四")
    apply_pending(wecom)
    assert snapshot.version() == version and user("lisi")[0] == "李四光"


def test_changes_older_than_the_last_read_are_in_it(ctx, wecom, fake):
    (campaign,) = campaigns(1)
    report_history("zhangsan", campaign, 1)
    started = datetime.fromtimestamp(T + 10, timezone.utc)
    snapshot.state().read_started_at = started
    db.session.commit()
    before = queue("update_user", T + 9, UserID="lisi", Name="旧名字")
    renamed = queue("update_user", T + 9, UserID="zhangsan", NewUserID="zhangsan2")
    after = queue("update_user", T + 10, UserID="wangwu", Name="王五五")
    version = snapshot.version()
    assert apply_pending(wecom) == 3
    assert before.outcome == "in the read of 2023-11-14 22:13:30 UTC" and user("lisi")[0] == "李四"
    assert user("zhangsan") == ("张三", [1])  # the read decides the directory ...
    assert history_of("zhangsan2")["deliveries"] == 1  # ... but not the report history
    assert renamed.outcome.endswith("report history moved zhangsan → zhangsan2")
    assert user("wangwu")[0] == "王五五" and after.outcome == "member wangwu name changed"
    assert snapshot.version() == version + 1
    assert fake.calls("/user/get") == []


def test_a_wecom_error_leaves_the_change_pending_and_stops_the_run(ctx, wecom, fake):
    fake.add_user("xiaoming", "小明", [3])
    first = queue("update_user", T, UserID="lisi", Name="李四光")
    stuck = queue("create_user", T + 1, UserID="xiaoming", Department="3")
    later = queue("delete_user", T + 2, UserID="wangwu")
    fake.fail_next(48002, path="/user/get")
    assert apply_pending(wecom) == 1
    assert first.applied_at is not None and user("lisi")[0] == "李四光"
    assert (stuck.applied_at, later.applied_at) == (None, None)
    assert stuck.outcome.startswith("waiting for WeCom: 48002")
    assert user("wangwu") is not None and user("xiaoming") is None  # nothing of it half done
    assert apply_pending(wecom) == 2
    assert user("xiaoming") == ("小明", [3]) and user("wangwu") is None
    assert stuck.outcome == "member xiaoming added in 1 department"


def test_a_change_type_we_do_not_know_is_settled_and_ignored(ctx, wecom):
    row = queue("update_everything", UserID="lisi")
    assert apply_pending(wecom) == 1 and row.outcome == "ignored: unknown change type update_everything"
    assert user("lisi") == ("李四", [2])


def test_limit(ctx, wecom):
    for i in range(5):
        queue("update_tag", T + i, TagId="1", AddUserItems=f"u{i}")
    assert [apply_pending(wecom, limit=2) for _ in range(4)] == [2, 2, 1, 0]
    assert copy()["tags"][1][1] == ["u0", "u1", "u2", "u3", "u4", "zhangsan"]
