"""Error pages: HTML for people, JSON for the API and for clients that ask for it."""
from flask import render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, default_exceptions

TITLES = {
    # Werkzeug's own words for 400 and 405, here so that the pages can be translated.
    400: (_l("Bad Request"),
          _l("The browser (or proxy) sent a request that this server could not understand.")),
    403: (_l("Not allowed"), _l("Your role does not give access to this page. Ask an admin if you need it.")),
    404: (_l("Not found"), _l("There is nothing at this address. It may have been moved or removed.")),
    405: (_l("Method Not Allowed"), _l("The method is not allowed for the requested URL.")),
    413: (_l("Too large"), _l("The upload is larger than this server accepts.")),
    500: (_l("Something went wrong"), _l("The error was logged. Try again, and tell an admin if it persists.")),
}
# A 400 or 405 raised with its own description (abort(400, "...")) shows that description; the
# reasons Flask-WTF gives when a form's CSRF check fails (its words) are translated here.
OWN_DESCRIPTIONS = (400, 405)
CSRF_REASONS = {
    "CSRF validation failed.": _l("CSRF validation failed."),
    "The CSRF token is missing.": _l("The CSRF token is missing."),
    "The CSRF session token is missing.": _l("The CSRF session token is missing."),
    "The CSRF token has expired.": _l("The CSRF token has expired."),
    "The CSRF token is invalid.": _l("The CSRF token is invalid."),
    "The CSRF tokens do not match.": _l("The CSRF tokens do not match."),
    "The referrer header is missing.": _l("The referrer header is missing."),
    "The referrer does not match the host.": _l("The referrer does not match the host."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _page_text(exc: HTTPException) -> tuple[str, str]:
    """The page's title and explanation, in the page's language where they are known."""
    title, text = TITLES.get(exc.code, (exc.name, exc.description))
    if exc.code in OWN_DESCRIPTIONS and exc.description != default_exceptions[exc.code].description:
        text = CSRF_REASONS.get(exc.description, exc.description)
    return title, text


def handle_http_error(exc: HTTPException):
    if _wants_json():
        return {"error": exc.name, "message": exc.description}, exc.code
    title, text = _page_text(exc)
    return render_template("errors/error.html", code=exc.code, title=title, text=text), exc.code


def register(app) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
