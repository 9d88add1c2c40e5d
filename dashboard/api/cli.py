"""`flask --app wsgi tokens create USERNAME [--name NAME] [--scope read] [--expires-in DAYS]`: a
token for scripts, printed once."""
import click
from flask.cli import AppGroup

from ..extensions import db
from ..models import User
from ..models.user import TOKEN_SCOPES
from . import service

tokens = AppGroup("tokens", help="Personal API tokens.")


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="CLI token", show_default=True, help="What the token is for.")
@click.option("--scope", type=click.Choice(TOKEN_SCOPES), default="full", show_default=True,
              help="read: GET requests only.")
@click.option("--expires-in", "days", type=click.IntRange(1, service.MAX_DAYS), metavar="DAYS",
              help="Days until the token stops working (default: until revoked).")
def tokens_create(username, name, scope, days):
    """Create an API token for USERNAME and print it (only its hash is kept)."""
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None or not user.active:
        raise click.ClickException(f"No active user {username!r}.")
    if not name.strip() or len(name) > 80:
        raise click.UsageError("--name must have 1 to 80 characters.")
    token, plaintext = service.create_token(user, name.strip(), scope=scope, expires_in_days=days,
                                            actor="cli")
    db.session.commit()
    expires = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "no expiry"
    click.echo(f"API token for {username} ({user.role}, scope {scope}, {expires}), shown only now:",
               err=True)
    click.echo(plaintext)
