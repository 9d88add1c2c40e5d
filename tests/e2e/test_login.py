import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit], main input[type=submit]")  # not the language switcher


@pytest.mark.parametrize("role, sees, hidden", [
    ("admin", ["Home", "Users"], []),
    ("manager", ["Home"], ["Users"]),
])
def test_login_shows_the_navigation_for_the_role(page, live_server, role, sees, hidden):
    sign_in(page, live_server, role)
    nav = page.get_by_role("list", name="Main")
    for label in sees:
        assert nav.get_by_role("link", name=label).is_visible()
    for label in hidden:
        assert nav.get_by_role("link", name=label).count() == 0
    assert page.locator(".navbar-text").inner_text().startswith(role)


def test_wrong_password_shows_the_generic_message(page, live_server):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", "nope-nope")
    page.click("input[type=submit]")
    assert page.get_by_role("alert").inner_text().strip().startswith("Wrong username or password.")
