"""Privacy pages: my consents, my data (HTML and JSON), delete my account. Thin: parse, call, commit."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response as BaseResponse

from ..accounts import legal
from ..booking import queries as booking_queries
from ..errors import DomainError, InvalidInput
from ..extensions import db, limiter
from ..webviews import attempt, me
from . import deletion, services
from .forms import DeleteAccountForm, GrantForm, WithdrawForm

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


def _session_key() -> str:
    return "privacy-delete:" + str(current_user.get_id() or "anonymous")


@bp.get("/consents")
@login_required
def consents() -> str:
    return render_template(
        "privacy/consents.html",
        states=services.consent_overview(me()),
        documents=legal.acceptance_overview(me()),
        grant_form=GrantForm(),
        withdraw_form=WithdrawForm(),
    )


@bp.post("/consents/<purpose>/grant")
@login_required
def grant(purpose: str) -> BaseResponse:
    form = GrantForm()
    if not form.validate_on_submit():
        flash(_("请先勾选“同意”再提交。"), "error")
        return redirect(url_for("privacy.consents"))
    services.give_consent(me(), purpose)
    db.session.commit()
    flash(_("已记录您的同意。"), "success")
    return redirect(url_for("privacy.consents"))


@bp.post("/consents/<purpose>/withdraw")
@login_required
def withdraw(purpose: str) -> BaseResponse:
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("privacy.consents"))
    cancelled = services.take_back_consent(me(), purpose)
    db.session.commit()
    if cancelled:
        flash(_("已撤回同意，并取消了 %(n)d 项相关报名。", n=cancelled), "success")
    else:
        flash(_("已撤回同意。"), "success")
    return redirect(url_for("privacy.consents"))


@bp.get("/export")
@login_required
def export() -> str:
    return render_template("privacy/export.html", data=services.export_data(me()))


@bp.get("/export.json")
@login_required
def export_json() -> Response:
    body = json.dumps(services.export_data(me()), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="zhijia-my-data.json"'},
    )


def _failed(response: BaseResponse) -> bool:
    return response.status_code != 302


def _show_refusal(form: DeleteAccountForm, error: DomainError) -> None:
    """A wrong password on the password field; any other refusal flashed."""
    if isinstance(error, InvalidInput):
        form.password.errors = [*form.password.errors, *error.fields.get("password", [error.message])]
    else:
        flash(error.message, "error")


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@limiter.limit("5 per 15 minutes", methods=["POST"], key_func=_session_key, deduct_when=_failed)
def delete() -> str | BaseResponse:
    user = me()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        with attempt(show=lambda error: _show_refusal(form, error)) as done:
            deletion.delete_account(user, form.password.data or "")
        if done:
            logout_user()
            flash(_("您的账号已注销，个人信息已删除。感谢您使用职工之家。"), "success")
            return redirect(url_for("web.home"))
    return render_template(
        "privacy/delete.html", form=form, upcoming=booking_queries.upcoming_registrations(user), user=user
    )
