"""素材管理 › 上传图片 (media/uploadimg): a JPG or PNG of at most 2 MB gets a permanent URL on
WeCom's own servers, for the image fields of template cards (card_image, image_text_area, the
source icon) and news articles. The caller checks the picture first; WeCom checks it again."""

from __future__ import annotations

from typing import Callable

#: The content type posted with the file, by its kind as read from its bytes.
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}
MAX_IMAGE_BYTES = 2 * 1024 * 1024  # WeCom's limit for media/uploadimg


def content_type_of(data: bytes) -> str:
    """image/png or image/jpeg by the file's magic bytes; ValueError for anything else, which
    WeCom would refuse with 40005."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return CONTENT_TYPES["png"]
    if data.startswith(b"\xff\xd8\xff"):
        return CONTENT_TYPES["jpeg"]
    raise ValueError("not a PNG or JPG file")


class MediaAPI:
    """Pictures for cards; mixed into ``WeComClient``, which provides ``_call``."""

    _call: Callable[..., dict]

    def upload_image(self, data: bytes, filename: str) -> str:
        """Upload a JPG or PNG picture and return its permanent URL (``http://p.qpic.cn/...``).

        Posted as multipart/form-data, field ``media``, with ``filename`` (WeCom keeps it with the
        file; it is never a path here) and the content type read from the bytes.

        :raises ValueError: the bytes are not a PNG or JPG (nothing is sent).
        :raises ApiError: 40005 (file type), 40006 (file size), 40009 (picture size) and the
            usual token and permission errors.
        """
        media = {"media": (filename, data, content_type_of(data))}
        return self._call("POST", "media/uploadimg", files=media)["url"]
