"""First-run data: an admin with a generated password, and sample cards from the gallery."""
import secrets

from flask import current_app

from .auth import service as auth_service
from .cards.gallery import seed_gallery
from .extensions import db
from .models import User


def seed() -> list[str]:
    """Seed what is missing and return lines to print for the person starting the app."""
    lines = []
    if db.session.scalar(db.select(User).filter_by(username="admin")) is None:
        password = secrets.token_urlsafe(12)
        auth_service.create_user("admin", "admin", password, actor="demo")
        lines.append(f"Admin account created: username admin, password {password}")
        lines.append("(shown once; reset it with `flask --app wsgi users password admin --password generate`)")
    else:
        lines.append("Admin account exists (reset its password with "
                     "`flask --app wsgi users password admin --password generate`).")
    lines.extend(seed_gallery())
    for hook in current_app.extensions.get("demo_seeders", []):  # e.g. the sandbox's directory
        lines.extend(hook())
    db.session.commit()
    return lines
