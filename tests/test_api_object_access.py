"""The JSON API checks each campaign against the token's owner as the pages do (issue 28, point 3):
staff read and change the campaigns they created, managers read every one, nobody else changes one.
The table is walked from the URL map, so a new API route with an id fails here until it has a rule."""
import pytest

from dashboard.api import service as api_service
from dashboard.auth import service as auth_service
from dashboard.extensions import db
from dashboard.models import User
from tests.conftest import PASSWORD
from tests.test_reports import lunch_poll

REFUSED, ALLOWED = "refused", "allowed"
READ, WRITE = (REFUSED, ALLOWED), (REFUSED, REFUSED)  # (another staff member, a manager)

# endpoint -> {method: (another staff member, a manager)}
EXPECTED = {
    "api.campaign": {"GET": READ},
    "api.check": {"GET": WRITE},
    "api.send": {"POST": WRITE},
    "api.cancel": {"POST": WRITE},
    "api.recall": {"POST": WRITE},
    "api.close_poll": {"POST": WRITE},
    "api.report": {"GET": READ},
    "api.events": {"GET": READ},
}


def api_routes_with_a_campaign(app) -> dict[str, set[str]]:
    return {rule.endpoint: rule.methods & {"GET", "POST", "PUT", "DELETE"}
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("api.") and "campaign_id" in rule.arguments}


@pytest.fixture
def tokens(app):
    """A sent poll created by "staff", and API tokens of staff, staff2, manager and admin."""
    with app.app_context():
        auth_service.create_user("staff2", "staff", PASSWORD, actor="test")
        poll = lunch_poll()
        out = {"campaign_id": poll.id}
        for name in ("staff", "staff2", "manager", "admin"):
            user = db.session.scalar(db.select(User).filter_by(username=name))
            out[name] = api_service.create_token(user, "script")[1]
        db.session.commit()
        return out


def test_every_api_route_with_a_campaign_has_a_rule(app):
    routes = api_routes_with_a_campaign(app)
    assert set(routes) == set(EXPECTED)
    assert all(set(EXPECTED[endpoint]) == methods for endpoint, methods in routes.items())


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_another_staff_member_and_a_manager_meet_the_pages_rule(app, client, tokens, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    url = rule.rule.replace("<int(max=2147483647):campaign_id>", str(tokens["campaign_id"]))
    for who, column in (("staff2", 0), ("manager", 1)):
        for method, expected in EXPECTED[endpoint].items():
            response = client.open(url, method=method, headers={"Authorization": f"Bearer {tokens[who]}"})
            assert response.status_code < 500, (who, method, url, response.status_code)
            got = REFUSED if response.status_code in (403, 404) else ALLOWED
            assert got == expected[column], (who, method, url, response.status_code, response.json)
            if got == REFUSED:
                assert response.is_json and response.json["message"]


def test_the_owner_and_an_admin_still_read_and_change_it(client, tokens):
    for who in ("staff", "admin"):
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        assert client.get(f"/api/v1/campaigns/{tokens['campaign_id']}", headers=headers).status_code == 200
        assert client.get(f"/api/v1/campaigns/{tokens['campaign_id']}/check",
                          headers=headers).status_code == 200
