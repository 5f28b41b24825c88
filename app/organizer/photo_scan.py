"""Check-in from a photo of the ticket (issue 21, item 13): browsers without ``BarcodeDetector`` (iPhone Safari,
Firefox) take a picture with ``<input capture>``; the server reads its QR code with zxing-cpp and checks the
ticket in exactly as a typed code would be."""

from __future__ import annotations

import io
import secrets

import zxingcpp
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from ..accounts.models import User
from ..errors import InvalidInput
from ..events.models import Event
from . import attendance

MAX_PHOTO_BYTES = 12 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a phone photo is at most a few tens of megapixels; larger is refused before decoding
LONGEST_SIDE = 1600  # QR codes on a phone screen read well at this size, and decoding stays fast


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"photo": [message]})


def ticket_code_from_photo(data: bytes) -> str:
    """The text of the QR code in a photo. Refuses (InvalidInput on ``photo``) an empty or oversized upload,
    anything that is not a picture, and a picture without a readable QR code."""
    if not data:
        raise _refuse(_("请先拍摄电子票二维码。"))
    if len(data) > MAX_PHOTO_BYTES:
        raise _refuse(_("照片过大，请重新拍摄。"))
    try:
        with Image.open(io.BytesIO(data)) as photo:
            if photo.size[0] * photo.size[1] > MAX_PIXELS:
                raise _refuse(_("照片过大，请重新拍摄。"))
            photo.draft("L", (LONGEST_SIDE, LONGEST_SIDE))  # JPEG: decode at a reduced size directly
            grey = ImageOps.exif_transpose(photo).convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refuse(_("无法识别该照片，请重新拍摄。")) from None
    grey.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    found = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    codes = [result.text.strip() for result in found if result.text.strip()]
    if not codes:
        raise _refuse(_("照片中没有找到二维码，请对准电子票二维码重新拍摄。"))
    return codes[0]


def scan_photo(actor: User, event: Event, data: bytes) -> attendance.ScanResult:
    """Check in the ticket whose QR code is in the photo, through the same rules as any scan (a new scan id:
    every photo is its own attempt)."""
    code = ticket_code_from_photo(data)
    return attendance.scan(actor, event, secrets.token_hex(12), ticket_code=code[:64])
