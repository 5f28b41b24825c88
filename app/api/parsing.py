"""Strict parsing of JSON bodies: wrong types and unknown values are field errors, never 500s."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from flask_babel import gettext as _

from ..errors import InvalidInput
from ..freetext import TextRefused, clean_text


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput(_("请求体必须是 JSON 对象。"))
    return data


class Fields:
    """Collects field errors while reading a JSON object; ``done()`` raises them all at once."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def string(self, name: str, *, required: bool = True, max_length: int = 200, multiline: bool = False) -> str | None:
        """The field's text under the app's one free-text rule (``freetext.clean_text``: trimmed, no control
        characters, at most ``max_length``); blank counts as missing."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(name, _("必填。"))
            return None
        try:
            text = clean_text(value, max_length=max_length, multiline=multiline)
        except TextRefused as refused:
            self.error(name, refused.message)
            return None
        if not text and required:
            self.error(name, _("必填。"))
            return None
        return text

    def secret(self, name: str, *, max_length: int = 128) -> str | None:
        """A password, as typed: never trimmed or otherwise changed (the web login takes it the same way)."""
        value = self.data.get(name)
        if not isinstance(value, str) or not value or len(value) > max_length:
            self.error(name, _("必填。") if value is None else _("不能超过 %(n)d 个字。", n=max_length))
            return None
        return value

    def integer(self, name: str, *, required: bool = True, minimum: int = 0, maximum: int = 100_000) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.error(name, _("必填。"))
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.error(name, _("必须是 %(min)d 到 %(max)d 之间的整数。", min=minimum, max=maximum))
            return None
        return value

    def datetime(self, name: str, *, required: bool = True) -> datetime | None:
        value = self.string(name, required=required, max_length=40)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.error(name, _("必须是 ISO 8601 时间，例如 2026-12-01T09:00。"))
            return None
        if moment.tzinfo is not None:
            from .. import clock

            moment = moment.astimezone(clock.CHINA).replace(tzinfo=None)
        return moment

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            self.error(name, _("必须是 true 或 false。"))
            return default
        return value

    def done(self) -> None:
        if self.errors:
            raise InvalidInput(_("请检查填写的内容。"), fields=self.errors)
