"""The conversations' blueprint; its pages are in views.py (rules), inbox.py, menu.py and
reports.py, each registering its routes on it."""
from flask import Blueprint

bp = Blueprint("conversations", __name__, url_prefix="/conversations")

STAFF = ("staff",)  # who edits rules and the menu, and answers members (admins always may)
READERS = ("staff", "manager")  # who reads the inbox and the reports
