"""Error pages: HTML for people, JSON for the API and for clients that ask for it."""
from flask import render_template, request
from werkzeug.exceptions import HTTPException

TITLES = {
    403: ("Not allowed", "Your role does not give access to this page. Ask an admin if you need it."),
    404: ("Not found", "There is nothing at this address. It may have been moved or removed."),
    413: ("Too large", "The upload is larger than this server accepts."),
    500: ("Something went wrong", "The error was logged. Try again, and tell an admin if it persists."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def handle_http_error(exc: HTTPException):
    title, text = TITLES.get(exc.code, (exc.name, exc.description))
    if _wants_json():
        return {"error": exc.name, "message": exc.description}, exc.code
    return render_template("errors/error.html", code=exc.code, title=title, text=text), exc.code


def register(app) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
