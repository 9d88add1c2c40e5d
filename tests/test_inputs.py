"""Text holding NUL is a 400 before any view runs, on every database (PostgreSQL cannot store it)."""
import pytest

from dashboard.extensions import db
from dashboard.inputs import NUL
from dashboard.models import AuditLog


@pytest.mark.parametrize("path", ["/cards/?q=a%00b", "/cards/?q=a%5Cu0000b", "/cards/?a%00=1",
                                  "/sandbox/inbox/li%00si/feed"])
def test_nul_in_the_address_or_a_query_parameter_is_a_400(client, login, path):
    login("staff")
    response = client.get(path)
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


def test_nul_in_a_form_field_is_a_400_and_nothing_is_written(app, client, login):
    def audited():
        with app.app_context():
            return db.session.scalar(db.select(db.func.count(AuditLog.id)))

    before = audited()
    response = client.post("/login", data={"username": "adm\x00in", "password": "x"})
    assert response.status_code == 400 and "“username”" in response.get_data(as_text=True)
    assert audited() == before  # not even a failed login
    assert login("admin").status_code == 302


def test_the_api_answers_in_json(client):
    response = client.get("/api/v1/cards?q=%00")
    assert response.status_code == 400 and "NUL" in response.json["message"]


@pytest.mark.parametrize("text, found", [
    ("plain", False), ("a\x00b", True), ("a\\u0000b", True), ("a\\U0000b", True),
    ("a\\\\u0000b", False), ("a\\\\\\u0000b", True), ("a\\u00001", True), ("a\\u00010", False),
])
def test_nul_is_the_character_or_its_json_escape(text, found):
    assert bool(NUL.search(text)) is found
