"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import logging
import os

from dashboard import create_app

logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO"),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
logging.getLogger("urllib3").setLevel(logging.WARNING)  # its DEBUG lines carry full URLs with tokens
app = create_app()
