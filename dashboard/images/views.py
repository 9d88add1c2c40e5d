"""The image library's routes: the designer's upload and picker (JSON) and the library page.

Uploads are for staff and admins, CSRF-checked (the designer sends X-CSRFToken, the page a form
field), and a body over MAX_BODY is refused from its Content-Length before anything reads it:
the limit is set in a URL-value preprocessor, which Flask runs before every before_request
function, Flask-WTF's CSRF check (which parses the form) included.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth import role_required
from ..extensions import db
from . import service

bp = Blueprint("images", __name__, url_prefix="/images")

STAFF = ("staff",)  # who uploads and picks pictures (admins always may)
UPLOADS = ("images.upload", "images.index")  # the endpoints that take a file
MAX_BODY = service.MAX_BYTES + 64 * 1024  # the file and the multipart framing around it


@bp.url_value_preprocessor
def limit_upload(endpoint: str | None, values: dict | None) -> None:
    """Refuse an upload over MAX_BODY by its Content-Length; a chunked one stops at MAX_BODY."""
    if endpoint in UPLOADS and request.method == "POST":
        request.max_content_length = MAX_BODY
        if (request.content_length or 0) > MAX_BODY:
            raise RequestEntityTooLarge()


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    message = service.too_large_text()
    if request.endpoint == "images.upload":
        return {"error": message}, 413
    flash(message, "danger")
    return redirect(url_for(".index"))


@bp.post("/upload")
@role_required(*STAFF)
def upload():
    """The designer's upload: 201 with the kept picture (reused: the same file was kept before)."""
    try:
        image = _upload()
    except service.ImageRefused as refused:
        db.session.rollback()
        return {"error": refused.message}, refused.status
    db.session.commit()
    return service.uploaded_json(image), 201


@bp.get("/list")
@role_required(*STAFF)
def image_list():
    """The designer's picker: newest first, ``q`` filters by name, at most 200."""
    images = db.session.scalars(service.library(request.args.get("q", "")[:120]))
    return {"items": [service.image_json(image) for image in images]}


@bp.route("/", methods=["GET", "POST"])
@role_required(*STAFF)
def index():
    """The library page; its form uploads outside the designer."""
    if request.method == "POST":
        try:
            image = _upload()
        except service.ImageRefused as refused:
            db.session.rollback()
            flash(refused.message, "danger")
        else:
            db.session.commit()
            flash(_("“%(name)s” was already in the library.", name=image.name) if image.reused
                  else _("“%(name)s” uploaded to WeCom.", name=image.name), "success")
        return redirect(url_for(".index"))
    q = request.args.get("q", "")[:120]
    return render_template("images/index.html", images=db.session.scalars(service.library(q)).all(), q=q,
                           size_text=service.size_text)


def _upload():
    """The request's ``file`` part, checked and kept (or the row already holding it)."""
    file = request.files.get("file")
    if file is None or not file.filename:
        raise service.ImageRefused(422, service.choose_text())
    data = file.stream.read(service.MAX_BYTES + 1)  # one byte past the limit is enough to refuse
    return service.upload(data, file.filename, actor=current_user._get_current_object())
