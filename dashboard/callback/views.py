"""The WeCom callback URL: verification (GET) and events (POST); no login, no CSRF, no logic here."""
from flask import Blueprint, Response, request

from ..auth.decorators import public
from . import service

bp = Blueprint("callback", __name__, url_prefix="/wecom")


@bp.get("/callback")
@public
def verify():
    return _plain(service.verify(request.args, request.remote_addr))


@bp.post("/callback")
@public
def receive():
    return _plain(service.receive(request.args, request.stream, request.content_length, request.remote_addr))


@bp.get("/ping")
@public
def ping():
    """A constant answer: for load balancers, and the benchmark's baseline."""
    return Response("ok", mimetype="text/plain")


def _plain(answer: service.Answer) -> Response:
    return Response(answer.body, answer.status, mimetype=answer.mimetype)
