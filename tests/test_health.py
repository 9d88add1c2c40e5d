"""/healthz: open to anyone, cheap, names the part that fails, says nothing secret."""
import pytest

from dashboard import create_app
from tests.conftest import make_app
from tests.servers import free_port


def health(app):
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json(), response


def test_ok_without_login_on_the_default_sqlite_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ok_on_a_redis_queue(tmp_path, redis_url):
    assert health(make_app(tmp_path, TASK_QUEUE_URL=redis_url))[:2] == (
        200, {"status": "ok", "database": "ok", "queue": "ok"})


def test_a_queue_that_cannot_be_reached_is_named_without_its_password(tmp_path):
    app = make_app(tmp_path, TASK_QUEUE_URL=f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0")
    status, body, response = health(app)
    assert status == 503
    assert body == {"status": "error", "database": "ok", "queue": "error: ConnectionError"}
    assert b"s3cret" not in response.data


@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_a_database_that_cannot_be_reached_is_named(tmp_path, request, queue):
    url = request.getfixturevalue("redis_url") if queue == "redis" else f"sqlite:///{tmp_path / 'q.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path / "i"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'no' / 'such' / 'db.sqlite'}",
                      "TASK_QUEUE_URL": url})
    status, body, _ = health(app)
    assert status == 503
    assert body == {"status": "error", "database": "error: OperationalError", "queue": "ok"}
