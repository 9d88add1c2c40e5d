from dashboard.extensions import db
from dashboard.models import AuditLog, User
from tests.conftest import make_app


def test_users_create_with_password(runner, app):
    result = runner.invoke(args=["users", "create", "wang.fang", "--role", "manager",
                                 "--password", "long-password-1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="wang.fang"))
        assert user.role == "manager" and user.check_password("long-password-1")
        assert db.session.scalar(db.select(AuditLog).filter_by(action="user_created", object_id=str(user.id)))


def test_users_create_without_password_and_terminal_fails_clearly(runner, app):
    result = runner.invoke(args=["users", "create", "nopass", "--role", "staff"], input="")
    assert result.exit_code != 0
    assert "--password" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="nopass")) is None


def test_users_create_refuses_duplicates_and_bad_roles(runner):
    assert runner.invoke(args=["users", "create", "staff", "--role", "staff", "--password", "x" * 12]).exit_code == 1
    assert runner.invoke(args=["users", "create", "new", "--role", "root", "--password", "x" * 12]).exit_code == 2


def test_demo_seed_prints_a_password_once(tmp_path):
    app = make_app(tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    password = first.output.split("password ")[1].split()[0]
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="admin")).check_password(password)
    second = runner.invoke(args=["demo", "seed"])
    assert password not in second.output and "exists" in second.output
