"""The API's errors: always JSON with a message; 422 adds every problem at its path."""
from flask import current_app
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
        count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        super().__init__(422, f"The request has {count}; each is listed in errors at its path.",
                         errors=errors)


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
    return ApiError(413, f"The body is larger than the API accepts ({limit:,} bytes).")


def _kept_headers(exc: HTTPException) -> dict:
    """Headers an error must carry (Allow, WWW-Authenticate ...), without its Content-Type."""
    return {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}


def register(bp) -> None:
    bp.register_error_handler(ApiError, handle_api_error)
    bp.register_error_handler(HTTPException, handle_http_error)
