"""The sandbox's WeCom API, called by the app's real client over real HTTP (issue 7, points 2-3)."""
import json
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from dashboard import wecom_app
from dashboard.directory import sync
from dashboard.extensions import db
from dashboard.models import SandboxApiCall, SandboxEmployee, SandboxInboxCard, SandboxMessage
from dashboard.sandbox import faults, people, seed_directory
from dashboard.wecom.errors import ApiError, RetryableError


def vote_card(task_id="vote-1", **changes):
    return {"card_type": "vote_interaction", "task_id": task_id,
            "main_title": {"title": "Lunch on Friday?"},
            "checkbox": {"question_key": "q_lunch", "mode": 0, "option_list": [
                {"id": "noodles", "text": "Noodles", "is_checked": False},
                {"id": "rice", "text": "Rice", "is_checked": False}]},
            "submit_button": {"text": "Vote", "key": "submit_vote"}, **changes}


@pytest.fixture
def served(app):
    """The app on a real port, its DASHBOARD_URL (so its sandbox API base) pointing at itself."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(DASHBOARD_URL=base, WECOM_API_BASE=f"{base}/sandbox/cgi-bin")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with app.app_context():
        seed_directory()
        db.session.commit()
    yield base
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def wecom(app, served):
    """The app's own client (wecom_app.client()), in an app context."""
    with app.app_context():
        yield wecom_app.client()


def raw(base, path, body=None, token=None, **params):
    """A call as any HTTP client makes it; the body's bytes are sent without a Content-Type."""
    if token:
        params["access_token"] = token
    url = f"{base}/sandbox/cgi-bin/{path}"
    if body is None:
        return requests.get(url, params=params, timeout=5).json()
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(url, params=params, data=data, timeout=5).json()


def test_the_directory_is_fixed_and_seeded_once(app):
    with app.app_context():
        first = seed_directory()
        again = seed_directory()
        rows = db.session.scalars(db.select(SandboxEmployee)).all()
    assert "seeded: 50 employees (4 unlicensed) in 7 departments, 5 tags" in first[0]
    assert "kept" in again[0]
    names = {e.name for e in rows}
    assert {"张伟", "Emma Wilson", "Anna Müller"} <= names
    assert [e.userid for e in rows if not e.licensed] == [u for u, *_, lic in people.EMPLOYEES if not lic]


def test_send_reports_invalid_and_unlicensed_users_and_delivers_to_the_rest(app, wecom):
    result = wecom.send_template_card(vote_card(), touser=["zhangwei", "LINA", "Nobody", "lucas.martin"])
    assert result.msgid and result.response_code
    assert result.invalid_users == ["nobody"] and result.unlicensed_users == ["lucas.martin"]
    inboxes = db.session.scalars(db.select(SandboxInboxCard.userid)).all()
    assert sorted(inboxes) == ["lina", "zhangwei"]


@pytest.mark.parametrize("recipients, expected", [
    ({"toparty": "6"}, {"zhouxin", "wuting", "xuhao", "sunyue", "DavidChen", "sofia.rossi"}),
    ({"toparty": "4"}, {u for u, _, depts, _, lic in people.EMPLOYEES if {4, 7} & set(depts) and lic}),
    ({"totag": "1"}, {"lijianguo", "wangfang", "gaofeng", "luojun", "denghui", "zhouxin", "tangwen"}),
    ({"touser": "@all"}, {u for u, *_, lic in people.EMPLOYEES if lic}),
])
def test_departments_tags_and_all_expand_to_employees(app, wecom, recipients, expected):
    result = wecom.send_template_card(vote_card(), **recipients)
    message = db.session.scalar(db.select(SandboxMessage).filter_by(msgid=result.msgid))
    assert set(message.recipients) == expected


def test_unknown_parties_and_tags_are_listed(app, wecom):
    result = wecom.send_template_card(vote_card(), touser="zhangwei", toparty="6|99", totag="77")
    assert result.invalid_parties == ["99"] and result.invalid_tags == ["77"]


def _token(base, app):
    query = {"corpid": app.config["WECOM_CORP_ID"], "corpsecret": app.config["WECOM_SECRET"]}
    return raw(base, "gettoken", **query)["access_token"]


def _body(**changes):
    body = {"touser": "zhangwei", "msgtype": "template_card", "agentid": 1000002,
            "template_card": vote_card()}
    return {**body, **changes}


NOTICE = {"card_type": "text_notice", "main_title": {"title": "Hi"}}


@pytest.mark.parametrize("body, errcode, words", [
    (b"{not json", 40058, "json"),
    (_body(agentid="1000002x"), 40056, "agentid"),
    (_body(agentid=1000003), 40056, "agentid"),
    ({k: v for k, v in _body().items() if k != "agentid"}, 41011, "agentid"),
    (_body(msgtype="markdown"), 40008, "message type"),
    (_body(touser="", toparty="", totag=""), 82001, "invalid"),
    (_body(touser="|".join(f"u{i}" for i in range(1001))), 40032, "1001"),
    (_body(toparty="|".join(str(i) for i in range(101))), 40058, "toparty"),
    (_body(totag="|".join(str(i) for i in range(101))), 40058, "totag"),
    (_body(touser="nobody|ghost"), 81013, "all invalid"),
    (_body(template_card=NOTICE), 42045, "template_card.card_action"),
    (_body(template_card=vote_card(task_id="bad id!")), 42014, "template_card.task_id"),
    (_body(template_card=vote_card(submit_button={"text": "Vote"})), 42046, "submit_button.key"),
])
def test_send_answers_with_wecoms_errcodes(app, served, body, errcode, words):
    answer = raw(served, "message/send", body, token=_token(served, app))
    assert answer["errcode"] == errcode and words in answer["errmsg"]
    assert "more info at https://open.work.weixin.qq.com/devtool/query?e=" in answer["errmsg"]


def test_81013_still_lists_the_invalid_users(app, served):
    answer = raw(served, "message/send", _body(touser="Nobody"), token=_token(served, app))
    assert answer["errcode"] == 81013 and answer["invaliduser"] == "nobody"


@pytest.mark.parametrize("query, errcode", [
    ({}, 41001), ({"access_token": "forged"}, 40014)])
def test_calls_without_a_valid_token_are_refused(served, query, errcode):
    assert raw(served, "tag/list", **query)["errcode"] == errcode


@pytest.mark.parametrize("query, errcode", [
    ({"corpid": "ww-other", "corpsecret": "x"}, 40013), ({"corpsecret": "x"}, 41002)])
def test_gettoken_checks_the_corp_and_secret(app, served, query, errcode):
    assert raw(served, "gettoken", **query)["errcode"] == errcode
    wrong = {"corpid": app.config["WECOM_CORP_ID"], "corpsecret": "wrong"}
    assert raw(served, "gettoken", **wrong)["errcode"] == 40001


def test_token_lives_the_configured_time_and_the_client_renews_an_expired_one(app, wecom, served):
    faults.update(token_ttl=60)
    db.session.commit()
    first = raw(served, "gettoken", corpid=app.config["WECOM_CORP_ID"], corpsecret=app.config["WECOM_SECRET"])
    assert first["expires_in"] == 60
    assert _token(served, app) == first["access_token"]  # the same token while it is valid
    token = wecom.get_access_token()
    faults.expire_tokens()
    db.session.commit()
    assert raw(served, "tag/list", token=token)["errcode"] == 42001
    assert len(wecom.list_tags()) == 5  # 42001, a new token, the call again
    assert wecom.get_access_token() != token
    calls = [(c.path, c.errcode) for c in db.session.scalars(db.select(SandboxApiCall).order_by(SandboxApiCall.id))]
    assert calls[-3:] == [("tag/list", 42001), ("gettoken", 0), ("tag/list", 0)]


def test_tokens_expire_by_themselves_after_the_configured_time(app, wecom, served):
    faults.update(token_ttl=1)
    db.session.commit()
    token = _token(served, app)
    assert raw(served, "tag/list", token=token)["errcode"] == 0
    time.sleep(1.1)
    assert raw(served, "tag/list", token=token)["errcode"] == 42001


def test_duplicate_check_replays_the_answer_and_task_ids_are_unique(app, wecom):
    from dashboard.wecom.client import build_send_body

    body = build_send_body(vote_card(), 1000002, touser="zhangwei", enable_duplicate_check=True)
    first, again = wecom.send(body), wecom.send(body)
    assert again.msgid == first.msgid
    assert db.session.scalar(db.select(db.func.count()).select_from(SandboxMessage)) == 1
    with pytest.raises(ApiError) as info:
        wecom.send_template_card(vote_card(), touser="lina")
    assert info.value.errcode == 42014 and "vote-1" in info.value.errmsg


def test_update_with_the_send_code_greys_every_recipient_once(app, wecom):
    sent = wecom.send_template_card(vote_card(), touser="zhangwei|lina")
    answer = wecom.update_template_card(sent.response_code, atall=True, replace_name="投票已结束")
    assert answer.invalid_users == []
    assert {r.replace_name for r in db.session.scalars(db.select(SandboxInboxCard))} == {"投票已结束"}
    with pytest.raises(ApiError) as info:
        wecom.update_template_card(sent.response_code, atall=True, replace_name="again")
    assert info.value.errcode == 42022
    with pytest.raises(ApiError) as info:
        wecom.update_template_card("no-such-code", userids=["lina"], replace_name="x")
    assert info.value.errcode == 60140


def test_update_by_userids_replaces_those_cards_and_lists_the_rest(app, wecom):
    sent = wecom.send_template_card(vote_card(), touser="zhangwei|lina")
    closed = vote_card(task_id=None, replace_text="已结束")
    del closed["task_id"]
    closed["checkbox"]["disable"] = True
    answer = wecom.update_template_card(sent.response_code, userids=["ZhangWei", "ghost", "xuli"],
                                        template_card=closed)
    assert answer.invalid_users == ["ghost", "xuli"]  # unknown, and not a recipient
    rows = {r.userid: r for r in db.session.scalars(db.select(SandboxInboxCard))}
    assert rows["zhangwei"].card["replace_text"] == "已结束" and rows["lina"].card is None
    assert rows["zhangwei"].version == 2


def test_update_checks_the_card_like_wecom(app, wecom):
    sent = wecom.send_template_card(vote_card(), touser="zhangwei")
    with pytest.raises(ApiError) as info:
        wecom.update_template_card(sent.response_code, userids=["zhangwei"],
                                   template_card={"card_type": "nope"})
    assert info.value.errcode == 42031


def test_recall_marks_the_message_recalled_and_unknown_msgids_fail(app, wecom):
    sent = wecom.send_template_card(vote_card(), touser="zhangwei")
    wecom.recall(sent.msgid)
    assert db.session.scalar(db.select(SandboxMessage)).recalled_at is not None
    with pytest.raises(ApiError) as info:
        wecom.recall("no-such-msgid")
    assert info.value.errcode == 40058


def test_injected_faults_answer_minus_one_and_45009_then_recover(app, wecom):
    faults.update(fail_next=1, limit_next=1)
    db.session.commit()
    with pytest.raises(RetryableError) as busy:
        wecom.list_tags()
    with pytest.raises(RetryableError) as limited:
        wecom.list_tags()
    assert (busy.value.errcode, limited.value.errcode) == (-1, 45009)
    assert len(wecom.list_tags()) == 5
    assert faults.settings().fail_next == 0 and faults.settings().limit_next == 0


def test_the_campaign_directory_refresh_reads_the_sandbox(app, wecom, served):
    result = sync.run(actor="test", client=wecom)  # commits
    assert (result.departments, result.users, result.tags) == (7, 50, 5)
    members = wecom.tag_members(4)
    assert members == {"userlist": [], "partylist": [3, 7]}
    assert [d["id"] for d in wecom.list_departments(4)] == [4, 7]
    users = raw(served, "user/list", token=wecom.get_access_token(), department_id=2)["userlist"]
    assert users[0]["position"] and users[0]["status"] == 1


def test_unknown_paths_are_404_and_posts_must_be_posts(app, served):
    assert requests.get(f"{served}/sandbox/cgi-bin/no/such/api", timeout=5).status_code == 404
    assert raw(served, "message/send", token=_token(served, app))["errcode"] == 40058
