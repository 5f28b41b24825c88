"""Forms shared by every feature that manages events or their pages."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length

from ..freetext import AppForm


class CoverForm(AppForm):
    """A cover picture and the words that describe it (events.covers checks both)."""

    picture = FileField(_l("封面图片（JPEG、PNG 或 WebP，5 MB 以内）"))
    alt = StringField(_l("图片描述（供读屏软件朗读，必填）"), validators=[Length(max=120)])

    def picture_bytes(self) -> bytes:
        """The uploaded file's bytes, read no further than one byte past the accepted size (b"" without one)."""
        upload = self.picture.data
        if not upload or isinstance(upload, str):
            return b""
        return upload.read(current_app.config["COVER_MAX_BYTES"] + 1)
