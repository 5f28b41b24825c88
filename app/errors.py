"""Typed domain errors raised by services and turned into messages or HTTP codes by views and the API."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule refused the request. ``code`` is stable (the API's ``error``); ``message`` is for people."""

    code = "domain_error"
    http_status = 422

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self._message = message
        self.details = details
        super().__init__(message)

    @property
    def message(self) -> str:
        # Worded when read, in the reader's language: a refused booking releases the slot's lock before its
        # message is translated.
        return self._message or self.default_message()

    def __str__(self) -> str:
        return self.message

    def default_message(self) -> str:
        from flask_babel import gettext

        return gettext("操作未能完成。")


class NotFound(DomainError):
    code = "not_found"
    http_status = 404

    def default_message(self) -> str:
        from flask_babel import gettext

        return gettext("没有找到该内容。")


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403

    def default_message(self) -> str:
        from flask_babel import gettext

        return gettext("您没有权限执行此操作。")


class InvalidInput(DomainError):
    code = "invalid"
    http_status = 422

    def __init__(self, message: str | None = None, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, fields=fields or {})
        self.fields = fields or {}


class Busy(DomainError):
    """The database gave up waiting for a lock (another transaction held it past the lock timeout): nothing was
    changed, and the same request a moment later will most likely succeed. The API answers 503 with
    ``Retry-After``; pages show the message."""

    code = "busy"
    http_status = 503
    retry_after_seconds = 2

    def default_message(self) -> str:
        from flask_babel import gettext

        return gettext("系统繁忙，请稍后重试。")
