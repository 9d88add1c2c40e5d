"""Pictures for cards in the JSON API (issue 21): upload a JPG or PNG (checked before WeCom sees
it, uploaded once, kept in the library) and list the library. The same service as the designer."""
from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import db
from ..images import service
from ..images.views import MAX_BODY
from . import schemas
from .auth import api_role_required, api_user
from .errors import ApiError
from .views import BODY_LIMITS, WRITERS, bp

BODY_LIMITS["api.upload_image"] = MAX_BODY  # a picture of up to 2 MB, more than API_MAX_BODY


@bp.url_value_preprocessor
def refuse_large_picture(endpoint: str | None, values: dict | None) -> None:
    """Before views.limit_body (Flask runs these first): a picture's own words for a body too large."""
    if endpoint == "api.upload_image" and (request.content_length or 0) > MAX_BODY:
        raise _refused(service.ImageRefused(413, service.too_large_text()))


@bp.post("/images")
@api_role_required(*WRITERS)
def upload_image():
    try:
        file = request.files.get("file")
    except RequestEntityTooLarge:  # a chunked body past MAX_BODY
        raise _refused(service.ImageRefused(413, service.too_large_text())) from None
    if file is None:
        raise _refused(service.ImageRefused(422, service.choose_text()))
    try:
        image = service.upload(file.stream.read(service.MAX_BYTES + 1), file.filename or "",
                               actor=api_user())
    except service.ImageRefused as refused:
        db.session.rollback()
        raise _refused(refused) from None
    db.session.commit()
    return service.uploaded_json(image), 201


@bp.get("/images")
@api_role_required(*WRITERS)
def image_list():
    query = service.library(request.args.get("q", "")[:120], limit=None)
    page = db.paginate(query, page=schemas.query_int("page", 1, 1, 100_000),
                       per_page=schemas.query_int("per_page", 50, 1, 200), error_out=False)
    return {"items": [service.image_json(image) for image in page.items], "total": page.total,
            "page": page.page, "per_page": page.per_page}


def _refused(refused: service.ImageRefused) -> ApiError:
    """The refusal as the API answers it: 422 lists the problem at ``file``, as other 422s do."""
    extra = {"errors": [{"path": "file", "message": refused.message, "code": None}]} if refused.status == 422 else {}
    return ApiError(refused.status, refused.message, **extra)
