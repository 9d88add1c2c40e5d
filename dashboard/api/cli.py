"""`flask --app wsgi tokens create USERNAME [--name NAME]`: a token for scripts, printed once."""
import click
from flask.cli import AppGroup

from ..extensions import db
from ..models import User
from . import service

tokens = AppGroup("tokens", help="Personal API tokens.")


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="CLI token", show_default=True, help="What the token is for.")
def tokens_create(username, name):
    """Create an API token for USERNAME and print it (only its hash is kept)."""
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None or not user.active:
        raise click.ClickException(f"No active user {username!r}.")
    if not name.strip() or len(name) > 80:
        raise click.UsageError("--name must have 1 to 80 characters.")
    _, plaintext = service.create_token(user, name.strip(), actor="cli")
    db.session.commit()
    click.echo(f"API token for {username} ({user.role}), shown only now:", err=True)
    click.echo(plaintext)
