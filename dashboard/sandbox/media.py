"""media/uploadimg as WeCom answers it, and the pictures it keeps: served back at
/sandbox/media/<token>.<ext> (public, as WeCom's CDN is), so the designer's preview and the
inboxes show them offline.

The file's name is not kept: the URL's name is a random token, the type comes from the bytes.
"""
from __future__ import annotations

import secrets

from flask import current_app, request

from ..extensions import db
from ..models import SandboxImage
from ..wecom.api.media import MAX_IMAGE_BYTES, content_type_of
from .answers import Refusal, ok

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}


def uploadimg(query, raw: bytes) -> dict:
    """The ``media`` part of the multipart body (``raw``, already read: Werkzeug parses the form
    from its cached copy), checked as WeCom checks it: 41005, 40005 and 40006."""
    part = request.files.get("media")
    if part is None:
        raise Refusal(41005, "media data missing")
    data = part.stream.read(MAX_IMAGE_BYTES + 1)
    try:
        content_type = content_type_of(data)
    except ValueError:
        raise Refusal(40005, "invalid file type: only jpg and png are supported") from None
    if not 5 <= len(data) <= MAX_IMAGE_BYTES:
        raise Refusal(40006, "invalid file size: 5 bytes to 2 MB")
    image = SandboxImage(token=secrets.token_urlsafe(24), content_type=content_type, data=data)
    db.session.add(image)
    return ok(url=url_of(image))


def url_of(image: SandboxImage) -> str:
    base = current_app.config["DASHBOARD_URL"].rstrip("/")
    return f"{base}/sandbox/media/{image.token}.{EXTENSIONS[image.content_type]}"


def stored(token: str, ext: str) -> SandboxImage | None:
    """The picture behind a URL media/uploadimg answered; None for a token or extension it never gave."""
    image = db.session.scalar(db.select(SandboxImage).filter_by(token=token))
    return image if image is not None and EXTENSIONS[image.content_type] == ext else None
