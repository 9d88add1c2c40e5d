"""Random JSON (and random bytes) at every API endpoint that takes a body, with a staff token:
2xx, or a 4xx JSON answer whose problems name their field path; never a 500, and no row from a
refused request. One app for the module, wired to the fake WeCom; rows counted before and after."""
import json

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from dashboard.extensions import db
from dashboard.models import Campaign, Card, CardVersion, Delivery, SendBatch
from tests.campaign_factories import wired
from tests.fake_wecom import FakeWeCom
from tests.fuzzing import FUZZ, any_text, json_values, mutated_cards, template_cards
from tests.test_api import VOTE, issue_token, new_campaign, new_card, sent_campaign

MODELS = (Card, CardVersion, Campaign, SendBatch, Delivery)
CREATES = {"/cards": Card, "/campaigns": Campaign}


@pytest.fixture(scope="module")
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture(scope="module")
def api(tmp_path_factory, fake):
    """(app, call, seeded ids): call(method, path, role="staff", **request) with a staff token."""
    with wired(tmp_path_factory.mktemp("api-fuzz"), fake, API_RATE_LIMIT=0) as app:
        client, headers = app.test_client(), {"Authorization": f"Bearer {issue_token(app, 'staff')}"}

        def call(method, path, role="staff", **kwargs):
            return client.open(f"/api/v1{path}", method=method.upper(), headers=headers, **kwargs)

        card_id = new_card(call, VOTE)
        ids = {"card": card_id, "draft": new_campaign(call, card_id),
               "sent": sent_campaign(app, call, VOTE, users=("lisi", "wangwu"))}
        yield app, call, ids


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(db.select(db.func.count()).select_from(m)) for m in MODELS)


# --- bodies --------------------------------------------------------------------------------------

names = st.sampled_from(["RSVP", "Lunch poll"]) | any_text | st.sampled_from([" ", "x" * 121, None])
ids = st.sampled_from([1, 2, 3]) | st.sampled_from([0, -1, 2**31, 2**63]) | st.integers() | json_values
user_ids = st.lists(st.sampled_from(["lisi", "wangwu", "Ghost", "a" * 65, "@all", ""]) | any_text, max_size=5)
recipients = (st.fixed_dictionaries({"users": st.lists(st.sampled_from(["lisi", "wangwu"]), min_size=1)})
              | st.fixed_dictionaries({}, optional={
                  "users": user_ids | json_values, "departments": st.lists(ids, max_size=3) | json_values,
                  "tags": st.lists(ids, max_size=3), "all": st.booleans() | json_values, "extra": json_values}))
send_at = (st.none() | st.sampled_from(["2099-01-01T09:00:00+08:00", "2000-01-01T00:00:00Z", "soon",
                                        "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                                        "2099-01-01T09:00:00"])
           | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | json_values)
options = st.fixed_dictionaries({}, optional={"enable_duplicate_check": st.booleans() | json_values,
                                              "duplicate_check_interval": st.integers(-5, 20000) | json_values})


@st.composite
def shaped(draw, required: dict, optional: dict):
    """Objects of the right shape, with now and then a field missing or one too many."""
    body = draw(st.fixed_dictionaries(required, optional=optional))
    if draw(st.integers(0, 4)) == 0:
        body.pop(draw(st.sampled_from(sorted(required))))
    if draw(st.integers(0, 4)) == 0:
        body[draw(any_text)] = draw(json_values)
    return body


cards = mutated_cards() | template_cards  # more of the nearly valid ones
BODIES = {
    "/cards": shaped({"name": names, "template_card": cards}, {}),
    "/cards/validate": shaped({"template_card": cards}, {"name": names}),
    "/cards/{card}": shaped({"template_card": cards}, {"name": names}),
    "/campaigns": shaped({"card_id": ids, "name": names, "recipients": recipients | json_values},
                         {"send_at": send_at, "options": options | json_values}),
}
ACTIONS = ["/campaigns/{draft}/send", "/campaigns/{draft}/cancel", "/campaigns/{sent}/recall",
           "/campaigns/{sent}/close-poll"]
ENDPOINTS = [("POST", "/cards"), ("POST", "/cards/validate"), ("PUT", "/cards/{card}"),
             ("POST", "/campaigns"), *(("POST", path) for path in ACTIONS)]


@st.composite
def requests_(draw):
    """(method, path template, body bytes): a shaped body, any JSON, or bytes that are not JSON."""
    method, path = draw(st.sampled_from(ENDPOINTS))
    kind = draw(st.sampled_from(["shaped", "shaped", "shaped", "json", "bytes"]))
    if kind == "bytes":
        return method, path, draw(st.binary(max_size=200))
    value = draw(BODIES.get(path, json_values) if kind == "shaped" else json_values)
    return method, path, json.dumps(value).encode()


# --- the target ----------------------------------------------------------------------------------


def check_answer(response) -> dict:
    assert response.status_code < 500, response.text
    data = response.get_json()
    assert isinstance(data, dict), response.text
    if response.status_code >= 400:
        assert isinstance(data["message"], str) and data["message"]
    if response.status_code == 422:
        assert data["errors"] and all(isinstance(e["path"], str) and e["message"] for e in data["errors"])
    return data


@pytest.mark.slow
@FUZZ
@given(request=requests_())
def test_random_bodies_get_a_2xx_or_a_4xx_with_field_paths_and_no_rows_when_refused(api, request):
    app, call, seeded = api
    method, template, body = request
    before = counts(app)
    response = call(method, template.format(**seeded), data=body, content_type="application/json")
    event(f"{method} {template} -> {response.status_code}")
    data = check_answer(response)
    if response.status_code >= 400:
        assert counts(app) == before, data
    elif template in CREATES:
        row = MODELS.index(CREATES[template])
        assert response.status_code == 201 and counts(app)[row] == before[row] + 1
    elif template == "/cards/validate":
        assert data["valid"] is (data["errors"] == []) and all(e["path"] for e in data["errors"])
