"""Error pages for people and JSON errors for the API; no request ends in an unhandled 500."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from .database import is_lock_timeout
from .errors import Busy, DomainError
from .extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: lambda: _("请求无效，请返回后重试。"),
    401: lambda: _("请先登录。"),
    403: lambda: _("您没有权限访问此页面。"),
    404: lambda: _("没有找到该页面或内容。"),
    405: lambda: _("不支持该请求方式。"),
    409: lambda: _("操作冲突，请刷新后重试。"),
    413: lambda: _("提交的内容过大。"),
    422: lambda: _("提交的内容无法处理。"),
    429: lambda: _("尝试次数过多，请稍后再试。"),
    500: lambda: _("服务器开小差了，请稍后再试。"),
    503: lambda: _("服务暂时不可用，请稍后再试。"),
}

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str | None = None, message: str | None = None) -> Response:
    message = message or MESSAGES.get(status, MESSAGES[500])()
    if wants_json():
        response = jsonify({"error": code or CODES.get(status, "error"), "message": message})
        response.status_code = status
        return response
    template = "errors/error.html"
    response = Response(render_template(template, status=status, message=message), status=status)
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 429:
            return error_response(429)
        return error_response(status)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Response:
        return error_response(400, "csrf", _("页面已过期或缺少安全令牌，请刷新页面后重新提交。"))

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response:
        db.session.rollback()
        response = error_response(error.http_status, error.code, error.message)
        if isinstance(error, Busy):
            response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> Response:
        db.session.rollback()
        log.info("integrity conflict on %s %s", request.method, request.endpoint)
        return error_response(409, "conflict")

    @app.errorhandler(OperationalError)
    def _operational(error: OperationalError) -> Response:
        db.session.rollback()
        log.warning("database busy on %s %s: %s", request.method, request.endpoint, type(error.orig).__name__)
        if is_lock_timeout(error):  # a lock wait outside the booking engine's own (which raise Busy)
            busy = Busy()
            response = error_response(busy.http_status, busy.code, busy.message)
            response.headers["Retry-After"] = str(busy.retry_after_seconds)
            return response
        return error_response(503)

    @app.errorhandler(DataError)
    def _data(error: DataError) -> Response:
        # A value the database cannot hold (an id beyond its integer range, a NUL byte in text): bad input.
        db.session.rollback()
        log.info("data error on %s %s: %s", request.method, request.endpoint, type(error.orig).__name__)
        return error_response(400)

    @app.errorhandler(RecursionError)
    def _too_deep(error: RecursionError) -> Response:
        # e.g. a JSON body nested thousands of levels deep: refuse it like any malformed request.
        db.session.rollback()
        return error_response(400)

    if app.testing:
        return  # let tests see the real exception

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.endpoint)
        return error_response(500)
