"""Pictures for cards: checked here, from their bytes, before anything leaves the app; uploaded
once to WeCom (media/uploadimg), which hosts them; kept as Image rows for reuse.

A file's name is only shown: it is never a path, and its kind comes from its magic bytes and
Pillow, never from the name or the browser's Content-Type.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image as PILImage
from PIL import UnidentifiedImageError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import wecom_app
from ..extensions import db
from ..models import Image, User, audit
from ..wecom.api.media import CONTENT_TYPES, MAX_IMAGE_BYTES
from ..wecom.errors import WeComError

MAX_BYTES = MAX_IMAGE_BYTES  # 2 MB, WeCom's limit for media/uploadimg
MAX_PIXELS = 40_000_000  # more is refused unread: a small file can claim a huge canvas
MAX_NAME = 255  # Image.name's length
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff"}
PILImage.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard, at our limit (it warns, then refuses at 2x)


class ImageRefused(Exception):
    """A picture refused before (413, 422) or by (502) WeCom, with words saying what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Inspected:
    kind: str  # 'png' | 'jpeg'
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def inspect(data: bytes) -> Inspected:
    """The picture's kind and pixel size, read safely; ImageRefused (413 too large, 422 not a
    JPG or PNG, corrupt or truncated, too many pixels) otherwise."""
    if len(data) > MAX_BYTES:
        raise ImageRefused(413, too_large_text())
    kind = next((kind for kind, magic in MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise ImageRefused(422, _("This file is not a JPG or PNG picture (whatever its name says). "
                                  "Save it as JPG or PNG and upload it again."))
    try:
        width, height = _read(data, kind)
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise ImageRefused(422, _too_many_pixels()) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageRefused(422, _("The picture is damaged or cut short. Save it again as JPG or PNG "
                                  "and upload the new file.")) from None
    if width * height > MAX_PIXELS:
        raise ImageRefused(422, _too_many_pixels())
    return Inspected(kind, width, height)


def _read(data: bytes, kind: str) -> tuple[int, int]:
    """Open (header only: Pillow refuses a bomb here), verify the file's structure (a PNG's
    chunks and checksums), and decode a JPG at 1/8 scale, as verify() does not check JPGs."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        with PILImage.open(io.BytesIO(data), formats=[kind.upper()]) as picture:
            size = picture.size
            picture.verify()
        if kind == "jpeg":
            with PILImage.open(io.BytesIO(data), formats=["JPEG"]) as picture:
                picture.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
                picture.load()
    return size


def too_large_text() -> str:
    return _("The file is larger than 2 MB, WeCom's limit for pictures. Make it smaller (fewer pixels, "
             "or JPG at a lower quality) and upload it again.")


def choose_text() -> str:
    return _("Choose a JPG or PNG picture to upload.")


def _too_many_pixels() -> str:
    return _("The picture has too many pixels (at most %(limit)s million). Scale it down and upload "
             "it again.", limit=MAX_PIXELS // 1_000_000)


def size_text(n: int) -> str:
    """A file size as people read it: 812 KB, 2.4 MB."""
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def upload(data: bytes, filename: str, *, actor: User) -> Image:
    """The kept picture for these bytes: the row already holding the same file (no WeCom call;
    its ``reused`` is True), else checked, uploaded to WeCom and saved, audited. The caller
    commits. ImageRefused before any WeCom call for a bad file, 502 when WeCom refuses it."""
    seen = inspect(data)
    digest = hashlib.sha256(data).hexdigest()
    found = db.session.scalar(db.select(Image).filter_by(sha256=digest))
    if found is not None:
        found.reused = True
        return found
    name = display_name(filename, seen.kind)
    try:
        url = wecom_app.client().upload_image(data, name)
    except WeComError as exc:
        raise ImageRefused(502, _("WeCom refused the picture: %(reason)s",
                                  reason=getattr(exc, "explanation", None) or str(exc))) from None
    image = Image(url=url, name=name, bytes=len(data), width=seen.width, height=seen.height,
                  sha256=digest, content_type=seen.content_type, uploaded_by_id=actor.id)
    try:
        with db.session.begin_nested():  # the same file, uploaded at the same moment by another
            db.session.add(image)
    except IntegrityError:
        found = db.session.scalar(db.select(Image).filter_by(sha256=digest))
        found.reused = True
        return found
    audit("image_uploaded", image, actor=actor, name=name, url=url, bytes=len(data))
    return image


def display_name(filename: str, kind: str) -> str:
    """The name shown in the library: the last part of what the browser sent, without control
    characters, at most 255 characters; a made-up one when nothing is left."""
    name = "".join(ch for ch in filename.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable())
    name = name.strip()[:MAX_NAME]
    return name or f"image.{'jpg' if kind == 'jpeg' else 'png'}"


def library(q: str = "", limit: int | None = 200):
    """The kept pictures, newest first; ``q`` filters by name (contains, any case); ``limit``
    None for a query to page."""
    query = (db.select(Image).options(selectinload(Image.uploaded_by))
             .order_by(Image.uploaded_at.desc(), Image.id.desc()))
    if q:
        query = query.where(Image.name.ilike(f"%{_like(q)}%", escape="\\"))
    return query if limit is None else query.limit(limit)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def uploaded_json(image: Image) -> dict:
    """An upload's answer (the designer's and the API's): the kept picture, and whether the same
    file was kept before (``reused``: WeCom was not called)."""
    return {"id": image.id, "url": image.url, "width": image.width, "height": image.height,
            "bytes": image.bytes, "name": image.name, "reused": image.reused}


def image_json(image: Image) -> dict:
    """The fields the designer's picker and the library page read."""
    return {"id": image.id, "url": image.url, "name": image.name, "width": image.width,
            "height": image.height, "bytes": image.bytes, "uploaded_at": image.uploaded_at.isoformat(),
            "uploaded_by": image.uploaded_by.username if image.uploaded_by else None}
