"""The inbox (with its unread count in the navigation) and the channel preferences page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from ..extensions import db
from ..webviews import attempt, me, safe_next
from . import services
from .forms import PreferencesForm
from .inbox_view import inbox_view

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def inbox() -> str:
    page = request.args.get("page", 1, type=int) or 1
    items, total = services.inbox_page(me(), page)
    db.session.commit()
    pages = max((total + services.INBOX_PAGE_SIZE - 1) // services.INBOX_PAGE_SIZE, 1)
    views = [inbox_view(item) for item in items]
    return render_template("notifications/inbox.html", items=items, views=views, page=page, pages=pages, total=total)


@bp.post("/<int:message_id>/read")
@login_required
def read(message_id: int) -> ResponseReturnValue:
    with attempt(show=lambda error: abort(error.http_status)):
        link = services.mark_read(me(), message_id).link
    target = (
        safe_next(link, url_for("notifications.inbox")) if request.form.get("open") else url_for("notifications.inbox")
    )
    return redirect(target)


@bp.post("/read-all")
@login_required
def read_all() -> ResponseReturnValue:
    services.mark_all_read(me())
    db.session.commit()
    flash(_("已全部标为已读。"), "success")
    return redirect(url_for("notifications.inbox"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    user = me()
    form = PreferencesForm()
    if request.method == "GET":
        preference = services.preference_for(user.id)
        form.email.data = preference.email
        form.sms.data = preference.sms
    if form.validate_on_submit():
        services.save_preferences(user, email=bool(form.email.data), sms=bool(form.sms.data))
        db.session.commit()
        flash(_("通知设置已保存。"), "success")
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form, user=user)
