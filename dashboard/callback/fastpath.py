"""POST /wecom/callback straight from WSGI: WeCom's stream of clicks skips Flask's request machinery.

Storing an event needs only the query string, the body and the client's address. Flask's request
and session objects, URL matching, the before and after hooks and Flask-Login cost about as much
CPU as storing the event itself (bench/bench_callback.py), so this middleware answers that one
method and path itself, with the same service, the same answers and the same security headers.
Every other request, the GET verification included, goes through Flask; ``callback.receive``
stays a route for URL building and the route tests.
"""
from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_content_length, get_input_stream

from . import service

log = logging.getLogger(__name__)

PATH = "/wecom/callback"


class CallbackFastPath:
    """WSGI middleware: ``app.wsgi_app = CallbackFastPath(app.wsgi_app, app)``, inside ProxyFix
    (which sets REMOTE_ADDR from X-Forwarded-For for trusted proxies)."""

    def __init__(self, wsgi_app, app) -> None:
        self.wsgi_app, self.app = wsgi_app, app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        args = MultiDict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        with self.app.app_context():
            try:
                answer = service.receive(args, get_input_stream(environ), get_content_length(environ),
                                         environ.get("REMOTE_ADDR"))
            except Exception:
                if self.app.testing or self.app.debug:
                    raise
                log.exception("callback failed")  # a bug: WeCom retries, the journal shows no row
                answer = service.Answer(500, "internal error")
        body = answer.body.encode()
        headers = [("Content-Type", f"{answer.mimetype}; charset=utf-8"), ("Content-Length", str(len(body))),
                   *self.app.extensions["security_headers"].items()]
        start_response(f"{answer.status} {HTTP_STATUS_CODES.get(answer.status, 'UNKNOWN')}", headers)
        return [body]
