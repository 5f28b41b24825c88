"""The admin system page: scheduler processes, periodic tasks, outbox health and failed messages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..webviews import attempt, flash_or_404
from . import services

bp = Blueprint("system", __name__, url_prefix="/admin/system")


def _require_admin() -> None:
    if not getattr(current_user, "is_admin", False):
        abort(404)


@bp.get("/")
@login_required
def index() -> str:
    _require_admin()
    return render_template("notifications/system.html", overview=services.overview())


@bp.post("/outbox/<int:message_id>/retry")
@login_required
def retry(message_id: int) -> ResponseReturnValue:
    _require_admin()
    with attempt(show=flash_or_404) as done:
        services.retry_failed(message_id)
    if done:
        flash(_("已重新排队，调度器下一轮会再次发送。"), "success")
    return redirect(url_for("system.index"))
