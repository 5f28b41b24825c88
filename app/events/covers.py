"""Cover pictures of events (issue 21, item 10).

An upload is checked (size, a real JPEG, PNG or WebP picture, not a decompression bomb), then re-encoded with
Pillow — which drops whatever else the file carried (EXIF with its location, scripts, trailing data) — into two
JPEG sizes named by their content's hash, stored in the configured ``MEDIA_FOLDER``. Pages show the small one,
lazy-loaded, with the required alternative text.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from ..accounts.models import User
from ..errors import InvalidInput
from .models import Event
from .services import managed_event

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
SIZES = {"thumb": 480, "full": 1200}  # widths in px
MAX_PIXELS = 40_000_000  # larger pictures are refused before decoding (decompression bombs)
ALT_MAX_LENGTH = 120
NAME_PATTERN = re.compile(r"^[0-9a-f]{32}-(thumb|full)\.jpg$")


def media_folder() -> Path:
    folder = Path(current_app.config["MEDIA_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"picture": [message]})


def store_picture(data: bytes) -> str:
    """Check and re-encode an uploaded picture into every size of ``SIZES``; returns the stored name (the
    content hash). Refuses with InvalidInput (on the ``picture`` field) anything too large, not a picture, of
    another format or with too many pixels; nothing is stored then."""
    if not data:
        raise _refuse(_("请选择一张图片。"))
    if len(data) > current_app.config["COVER_MAX_BYTES"]:
        raise _refuse(_("图片不能超过 %(n)d MB。", n=current_app.config["COVER_MAX_BYTES"] // (1024 * 1024)))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
        if kind not in ACCEPTED_FORMATS:
            raise _refuse(_("只接受 JPEG、PNG 或 WebP 图片。"))
        if width * height > MAX_PIXELS or width < 1 or height < 1:
            raise _refuse(_("图片尺寸过大。"))
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            upright = ImageOps.exif_transpose(picture).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refuse(_("无法识别该图片，请换一张 JPEG、PNG 或 WebP 图片。")) from None
    encoded: dict[str, bytes] = {}
    for size, target in SIZES.items():
        copy = upright.copy()
        copy.thumbnail((target, target * 2))
        buffer = io.BytesIO()
        copy.save(buffer, "JPEG", quality=80, optimize=True, progressive=True)
        encoded[size] = buffer.getvalue()
    name = hashlib.sha256(encoded["full"]).hexdigest()[:32]
    folder = media_folder()
    for size, body in encoded.items():
        (folder / f"{name}-{size}.jpg").write_bytes(body)
    return name


def clean_alt(text: str | None) -> str:
    """The alternative text, required: printable, spaces squeezed, at most ``ALT_MAX_LENGTH`` characters."""
    alt = " ".join("".join(ch if ch.isprintable() else " " for ch in (text or "")).split())
    if not alt:
        message = _("请用一句话描述图片内容（供读屏软件朗读）。")
        raise InvalidInput(message, fields={"alt": [message]})
    if len(alt) > ALT_MAX_LENGTH:
        message = _("图片描述不超过 %(n)d 个字。", n=ALT_MAX_LENGTH)
        raise InvalidInput(message, fields={"alt": [message]})
    return alt


def set_event_cover(actor: User, event_id: int, data: bytes, alt: str | None) -> Event:
    """An organizer gives an event of their subtree a cover picture with its description (both required);
    another organization's event answers NotFound."""
    event = managed_event(actor, event_id)
    description = clean_alt(alt)
    event.cover_image = store_picture(data)
    event.cover_alt = description
    return event


def picture_path(filename: str) -> Path | None:
    """The stored file for a public picture name, or None for any other name."""
    if not NAME_PATTERN.match(filename):
        return None
    path = media_folder() / filename
    return path if path.is_file() else None
