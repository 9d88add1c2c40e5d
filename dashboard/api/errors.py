"""The API's errors: always JSON with a message; 422 adds every problem at its path.

Messages are for people, in the request's language (English unless Accept-Language asks for
Chinese): they are made when the error is raised. "error" is the status's English name, a code.
"""
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES


class ApiError(Exception):
    """Answer with status and {"error", "message", **extra}, plus headers (Retry-After ...)."""

    def __init__(self, status: int, message: str, *, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.headers, self.extra = status, message, headers or {}, extra


class Invalid(ApiError):
    """422: the request's problems, each {"path": "recipients.users[3]", "message": ...}."""

    def __init__(self, errors: list[dict]):
        super().__init__(422, ngettext(
            "The request has %(num)s problem; each is listed in errors at its path.",
            "The request has %(num)s problems; each is listed in errors at its path.",
            len(errors)), errors=errors)


def either(words) -> str:
    """Alternatives as a message says them: "a", "a or b", "a or b or c" (each word as given)."""
    words = [str(word) for word in words]
    said = words[0]
    for other in words[1:]:
        said = _("%(type)s or %(other)s", type=said, other=other)
    return said


def body(status: int, message: str, **extra) -> dict:
    return {"error": HTTP_STATUS_CODES.get(status, "Error"), "message": message, **extra}


def handle_api_error(exc: ApiError):
    return body(exc.status, exc.message, **exc.extra), exc.status, exc.headers


def handle_http_error(exc: HTTPException):
    """Werkzeug's errors raised in the API's views (404 from get_or_404, 413 while reading ...);
    routing errors (an unknown path or method) go to the app's JSON handler in dashboard/errors.py."""
    if exc.code == 413:
        return handle_api_error(too_large())
    return body(exc.code or 500, exc.description), exc.code or 500, _kept_headers(exc)


def too_large() -> ApiError:
    limit = current_app.config["API_MAX_BODY"]
    return ApiError(413, _("The body is larger than the API accepts (%(limit)s bytes).",
                           limit=f"{limit:,}"))


def _kept_headers(exc: HTTPException) -> dict:
    """Headers an error must carry (Allow, WWW-Authenticate ...), without its Content-Type."""
    return {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}


def register(bp) -> None:
    bp.register_error_handler(ApiError, handle_api_error)
    bp.register_error_handler(HTTPException, handle_http_error)
