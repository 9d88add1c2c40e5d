"""Command-line interface: `flask --app wsgi users ...`, `flask --app wsgi demo ...`."""
import logging
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from . import backup as backups
from . import retention as retention_service
from .api.cli import tokens
from .auth import service as auth_service
from .config import USERID
from .extensions import db
from .models import ROLES, User, utcnow

users = AppGroup("users", help="Manage dashboard users.")
demo = AppGroup("demo", help="Demo data for a first look.")
retention = AppGroup("retention", help="Remove old personal data, keep the figures.")


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
@click.option("--password", help="Prompted for on a terminal when omitted (without --wecom-userid).")
@click.option("--wecom-userid", metavar="USERID",
              help="The WeCom member who signs in as this user; without --password, WeCom sign-in only.")
def users_create(username, role, password, wecom_userid):
    """Create a user."""
    if db.session.scalar(db.select(User).filter_by(username=username)):
        raise click.ClickException(f"User {username!r} already exists.")
    if wecom_userid:
        _check_wecom_userid(wecom_userid)
    if password or not wecom_userid:
        password = _password_option(password)
        if len(password) < 10:
            raise click.ClickException("The password must have at least 10 characters.")
    auth_service.create_user(username, role, password, wecom_userid=wecom_userid,
                             password_login=bool(password), actor="cli")
    db.session.commit()
    click.echo(f"Created {role} {username}.")
    if wecom_userid:
        click.echo(f"WeCom member {wecom_userid} signs in as {username}"
                   + ("." if password else ", with WeCom only (no password)."))


def _check_wecom_userid(userid: str) -> None:
    """A well-formed userid that no other user is linked to (one member signs in as one user)."""
    if not USERID.fullmatch(userid):
        raise click.ClickException(f"{userid!r} is not a WeCom userid (letters, digits and _ . @ -).")
    if db.session.scalar(db.select(User.username).where(db.func.lower(User.wecom_userid) == userid.lower())):
        raise click.ClickException(f"Another user is linked to the WeCom member {userid!r}.")


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
@click.option("--ready-file", type=click.Path(dir_okay=False), metavar="PATH",
              help="Created once the worker has started and takes jobs (`make run` waits for it).")
def worker(workers, ready_file):
    """Run the background worker: campaign delivery and scheduled sends (Ctrl+C stops it)."""
    from .tasks import run_worker

    run_worker(current_app._get_current_object(), workers, ready_file=ready_file)
    # Stopped. On SIGTERM (immediate) jobs may still be running, and Python would wait at exit for
    # the thread pools they started (a directory read's); their work is redone after a restart.
    logging.shutdown()
    os._exit(0)


def _age(_ctx, _param, value: str | None) -> timedelta | None:
    try:
        return None if value is None else retention_service.parse_age(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@retention.command("purge")
@click.option("--older-than", callback=_age, metavar="AGE",
              help="Finished campaigns idle this long: 180d, 12w, 36h. Default: RETENTION_DAYS days.")
@click.option("--dry-run", is_flag=True, help="Print what would be purged and change nothing.")
def retention_purge(older_than, dry_run):
    """Pseudonymise the answers and drop the raw callbacks of old campaigns (figures stay);
    delete old inbox messages."""
    cutoff = utcnow() - (older_than or timedelta(days=current_app.config["RETENTION_DAYS"]))
    plans, verb = retention_service.due(cutoff), "Would purge" if dry_run else "Purged"
    for plan in plans:
        click.echo(f"{verb} campaign {plan.campaign.id} “{plan.campaign.name}” (last activity "
                   f"{plan.last_activity:%Y-%m-%d}): {plan.people} people, {plan.bodies} raw callbacks.")
        if not dry_run:
            retention_service.purge(plan, cutoff=cutoff, actor="cli")
            db.session.commit()
    unmatched = retention_service.unmatched(cutoff)
    if unmatched and not dry_run:
        retention_service.purge_unmatched(cutoff)
        db.session.commit()
    messages = retention_service.old_messages(cutoff)
    if messages and not dry_run:
        retention_service.delete_messages(cutoff, actor="cli")
        db.session.commit()
    click.echo(f"{'Would delete' if dry_run else 'Deleted'} {messages} inbox message(s) received before "
               f"{cutoff:%Y-%m-%d %H:%M} UTC.")
    click.echo(f"{verb} {len(plans)} campaign(s) and {unmatched} callback(s) matching no campaign, "
               f"last active before {cutoff:%Y-%m-%d %H:%M} UTC.")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--verify", is_flag=True, help="Run PRAGMA integrity_check on the copy.")
def backup(path, verify):
    """Copy the live SQLite database to PATH (a file, or a directory for a timestamped file)."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        raise click.ClickException(backups.pg_dump_advice(url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise click.ClickException("Only a SQLite database file can be backed up by this command.")
    try:
        result = backups.sqlite_backup(url.database, backups.target(path, utcnow()), verify=verify)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    checked = "; integrity_check: ok" if result.integrity else ""
    click.echo(f"Backed up to {result.path}: {result.size:,} bytes, {len(result.rows)} tables, "
               f"{sum(result.rows.values()):,} rows{checked}.")


def register(app) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(worker)
    app.cli.add_command(tokens)
    app.cli.add_command(retention)
    app.cli.add_command(backup)
