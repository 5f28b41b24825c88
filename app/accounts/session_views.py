"""The devices page (/account/devices): a person's live web sessions and API tokens, each with a revoke button,
and "log out everywhere". Thin: parse, call one service, commit once. Every form posts with its CSRF token."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from ..extensions import db
from ..webviews import me
from . import sessions
from .views import bp


@bp.get("/devices")
@login_required
def devices() -> str:
    user = me()
    return render_template(
        "accounts/devices.html",
        web_sessions=sessions.live_sessions(user, current_user.get_id()),
        tokens=sessions.live_tokens(user),
    )


@bp.post("/devices/sessions/<handle>/revoke")
@login_required
def revoke_session(handle: str) -> Response:
    sessions.revoke_session(me(), handle)
    db.session.commit()
    flash(_("已让该设备退出登录。"), "success")
    return redirect(url_for("accounts.devices"))


@bp.post("/devices/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    sessions.revoke_token(me(), token_id)
    db.session.commit()
    flash(_("该访问令牌已作废。"), "success")
    return redirect(url_for("accounts.devices"))


@bp.post("/devices/revoke-all")
@login_required
def log_out_everywhere() -> Response:
    sessions.log_out_everywhere(me())
    db.session.commit()
    logout_user()
    flash(_("已在所有设备上退出登录，所有访问令牌均已作废。"), "info")
    return redirect(url_for("accounts.login"))
