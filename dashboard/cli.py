"""Command-line interface: `flask --app wsgi users ...`, `flask --app wsgi demo ...`."""
import secrets
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from .api.cli import tokens
from .auth import service as auth_service
from .extensions import db
from .models import ROLES, User

users = AppGroup("users", help="Manage dashboard users.")
demo = AppGroup("demo", help="Demo data for a first look.")


def _password_option(password: str | None) -> str:
    """The given password, or one typed at a terminal; without a terminal, a clear failure."""
    if password:
        return password
    if not sys.stdin.isatty():
        raise click.UsageError("No terminal to prompt on: pass --password.")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", help="Prompted for on a terminal when omitted.")
def users_create(username, role, password):
    """Create a user."""
    if db.session.scalar(db.select(User).filter_by(username=username)):
        raise click.ClickException(f"User {username!r} already exists.")
    password = _password_option(password)
    if len(password) < 10:
        raise click.ClickException("The password must have at least 10 characters.")
    auth_service.create_user(username, role, password, actor="cli")
    db.session.commit()
    click.echo(f"Created {role} {username}.")


@users.command("password")
@click.argument("username")
@click.option("--password", help="Prompted for on a terminal when omitted; 'generate' makes one.")
def users_password(username, password):
    """Set a user's password (and reactivate the account)."""
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        raise click.ClickException(f"No user {username!r}.")
    if password == "generate":
        password = secrets.token_urlsafe(12)
        click.echo(f"New password for {username}: {password}")
    password = _password_option(password)
    auth_service.update_user(user, role=user.role, active=True, password=password, actor="cli")
    db.session.commit()
    click.echo(f"Password of {username} changed.")


@demo.command("seed")
def demo_seed():
    """Create the admin account and sample data once; later runs keep what is there."""
    from .demo import seed

    for line in seed():
        click.echo(line)


@click.command("worker")
@click.option("--workers", default=8, show_default=True,
              help="Threads running jobs; each batch in flight takes one.")
def worker(workers):
    """Run the background worker: campaign delivery and scheduled sends (Ctrl+C stops it)."""
    from .tasks import run_worker

    run_worker(current_app._get_current_object(), workers)


def register(app) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(worker)
    app.cli.add_command(tokens)
