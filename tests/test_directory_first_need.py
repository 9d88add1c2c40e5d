"""First need on a fresh sandbox app (issue 18, point 1): an API campaign to everyone, sent with
no step before it, reaches the sandbox's whole directory."""
from dashboard.extensions import db
from dashboard.models import Delivery, SandboxEmployee, SandboxMessage
from tests.test_api import issue_token, new_card
from tests.test_sandbox_api import served  # noqa: F401  (the sandbox app on a real port)


def test_an_api_campaign_to_everyone_on_a_fresh_sandbox_reaches_the_whole_directory(app, served):
    app.extensions["huey"].immediate = True  # delivery runs at once, against the served sandbox
    token = issue_token(app, "staff")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method, path, **kwargs):
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    card_id = new_card(lambda m, p, role, **kw: call(m.upper(), p, **kw))
    campaign = call("POST", "/campaigns", json={"name": "All hands", "card_id": card_id,
                                                 "recipients": {"all": True}})
    assert campaign.status_code == 201, campaign.json
    assert call("GET", "/directory").json["read_at"] is None
    check = call("GET", f"/campaigns/{campaign.json['id']}/check")  # first need: read, then counted
    assert check.status_code == 200 and check.json["recipients"] == 50 and check.json["everyone"]
    assert check.json["can_send"] and check.json["calls"] == 1
    sent = call("POST", f"/campaigns/{campaign.json['id']}/send")
    assert sent.status_code == 202, sent.json
    with app.app_context():
        employees = db.session.scalar(db.select(db.func.count()).select_from(SandboxEmployee))
        people = db.session.scalar(db.select(db.func.count()).select_from(Delivery).filter_by(
            campaign_id=campaign.json["id"]))
        assert people == employees == 50
        message = db.session.scalar(db.select(SandboxMessage))
        assert message.request["touser"] == "@all"  # one @all call, as the check planned
        unlicensed = [u for u in message.answer["unlicenseduser"].split("|") if u]
        assert len(message.recipients) + len(unlicensed) == 50  # everyone, the unlicensed named
    assert call("GET", "/directory").json["users"] == 50
