"""Every route carries an access rule, and each role meets the right answer."""
import pytest

from tests.conftest import make_app

# (path, method, roles allowed); admin is always allowed.
PROTECTED = [
    ("/", "GET", {"staff", "manager"}),
    ("/users", "GET", set()),
    ("/users/1", "GET", set()),
]


@pytest.mark.parametrize("path, method, allowed", PROTECTED)
@pytest.mark.parametrize("role", ["anonymous", "admin", "staff", "manager"])
def test_role_x_route(client, login, role, path, method, allowed):
    if role != "anonymous":
        login(role)
    response = client.open(path, method=method)
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif role == "admin" or role in allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


def test_every_view_declares_its_access_rule(tmp_path):
    app = make_app(tmp_path)
    missing = [
        endpoint for endpoint, view in app.view_functions.items()
        if not hasattr(view, "access") and endpoint != "static" and not endpoint.startswith("bootstrap.")
    ]
    assert missing == []


def test_error_pages_are_finished_pages(client, login):
    login("manager")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True) and "navbar" in response.get_data(as_text=True)
    response = client.get("/users")
    assert response.status_code == 403 and "Not allowed" in response.get_data(as_text=True)
