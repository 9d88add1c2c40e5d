"""Shared fixtures: an app on a real database (a SQLite file, or PostgreSQL with --db postgresql),
its client and CLI runner, users to log in as, and a private redis-server for the tests of the
Redis queue."""
import pytest

from dashboard import create_app
from dashboard.auth import service as auth_service
from dashboard.extensions import db
from tests import databases, servers

PASSWORD = "correct-horse-battery"


def pytest_addoption(parser):
    parser.addoption("--db", choices=("sqlite", "postgresql"), default="sqlite",
                     help="run the tests on SQLite files (default) or on a throwaway PostgreSQL server")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): tests of SQLite's own behaviour, "
                                       "skipped with --db postgresql")
    if config.getoption("db") == "postgresql":
        databases.start_postgres()
        config.add_cleanup(databases.stop_postgres)


def pytest_runtest_setup(item):
    marker = item.get_closest_marker("sqlite_only")
    if marker and databases.on_postgres():
        pytest.skip(f"SQLite only: {marker.args[0]}")


@pytest.fixture(autouse=True)
def _own_database():
    """On PostgreSQL the database is emptied after each test (SQLite files go with tmp_path)."""
    yield
    databases.after_test()


def make_app(tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-of-at-least-32-bytes",  # long enough with TESTING off too
        "SQLALCHEMY_DATABASE_URI": databases.database_url(tmp_path),
        "TASK_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DASHBOARD_URL": "http://127.0.0.1:9",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production uses scrypt
        "DEFAULT_LANGUAGE": "en",  # pages in English unless a test asks for Chinese (test_i18n.py)
        **overrides,
    }
    app = create_app(config)
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        for role in ("admin", "staff", "manager"):
            auth_service.create_user(role, role, PASSWORD, actor="test")
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """login("staff") signs the test client in as that seeded user."""

    def do(username, password=PASSWORD):
        return client.post("/login", data={"username": username, "password": password})

    return do


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private redis-server for the whole session; yields its URL."""
    with servers.redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis, emptied for this test."""
    import redis

    redis.Redis.from_url(redis_server).flushall()
    return redis_server
