from flask import Blueprint

bp = Blueprint("callback", __name__, url_prefix="/wecom")
