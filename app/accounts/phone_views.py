"""Pages of accounts by phone: sign in by code, reset by code, activate an imported account, change one's number.
(Registration with a code is ``views.register``.) Each page has a "获取验证码" button (``action=send``) that sends
a code and shows the same page again, and a submit button that checks the code. Thin: parse, call, commit."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field

from ..errors import DomainError, InvalidInput
from ..extensions import db, limiter
from ..webviews import Attempt, ErrorTypes, attempt, me, show_error
from . import by_phone, legal, services, verification
from .legal_views import after_sign_in
from .phone_forms import ActivateForm, ChangePhoneForm, CodeLoginForm, CodeResetForm, DocumentsMixin
from .verification import Purpose
from .views import bp, this_device


def sending(form: FlaskForm) -> bool:
    """The person pressed "获取验证码" rather than the form's submit button."""
    return request.method == "POST" and request.form.get("action") == "send" and form.is_submitted()


def send_code(purpose: Purpose, form: FlaskForm, phone_field: Field) -> bool:
    """Send a code for ``purpose`` to the number in ``phone_field``; any refusal is shown on that field. The
    reservation is committed before the SMS leaves (no transaction is open during the gateway's round trip);
    a failed SMS voids its code."""
    if not phone_field.validate(form):
        return False
    try:
        issued = by_phone.request_code(purpose, phone_field.data or "", address=request.remote_addr)
    except (verification.CodeError, services.PhoneTaken) as error:
        db.session.rollback()
        phone_field.errors = [*phone_field.errors, error.message]
        return False
    except InvalidInput as error:
        db.session.rollback()
        phone_field.errors = [*phone_field.errors, *[m for ms in error.fields.values() for m in ms]]
        return False
    db.session.commit()
    try:
        verification.deliver(issued)
    except verification.CodeNotSent as error:
        verification.void_code(issued)
        db.session.commit()
        phone_field.errors = [*phone_field.errors, error.message]
        return False
    flash(_("验证码已发送至 %(phone)s，5 分钟内有效。", phone=_masked(issued.phone)), "success")
    return True


def code_submitted(form: FlaskForm, purpose: Purpose, phone_field: Field) -> bool:
    """A code page's POST: "获取验证码" sends a code for ``purpose`` to ``phone_field`` (False: the page comes back);
    otherwise True when the form was submitted and is valid."""
    if sending(form):
        send_code(purpose, form, phone_field)
        return False
    return form.validate_on_submit()


def _masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def show_refusal(form: FlaskForm, phone_field: Field, error: DomainError) -> None:
    """Show a code page's refused submit where it belongs: a refused code on the code field, a number already
    taken on the number, documents changed while the page was open as their current versions to accept again,
    anything else on the form's fields."""
    if isinstance(error, verification.CodeError):
        form.code.errors = [*form.code.errors, error.message]
    elif isinstance(error, services.PhoneTaken):
        phone_field.errors = [*phone_field.errors, error.message]
    elif isinstance(error, legal.DocumentsChanged) and isinstance(form, DocumentsMixin):
        form.show_versions(legal.current_versions())
        form.accept_documents.errors = [error.message]
    else:
        show_error(error, form)


def code_attempt(form: FlaskForm, phone_field: Field, catch: ErrorTypes) -> Attempt:
    """``attempt`` for a code page's submit: commit on success; a refusal in ``catch`` is rolled back — a wrong
    code is committed, the attempt counts — and shown by ``show_refusal``."""
    return attempt(
        form, catch=catch, commit_on_error=verification.WrongCode, show=lambda e: show_refusal(form, phone_field, e)
    )


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("60 per hour", methods=["POST"])
def login_code() -> str | Response:
    """Sign in with a code: a second way in, with its own limits (a password lockout does not apply here)."""
    form = CodeLoginForm()
    if code_submitted(form, Purpose.LOGIN, form.phone):
        with code_attempt(form, form.phone, catch=verification.CodeError) as done:
            user = by_phone.login_with_code(form.phone.data or "", form.code.data or "", this_device())
        if done:
            login_user(user)
            return after_sign_in(user, request.args.get("next"))
    return render_template("accounts/login_code.html", form=form)


@bp.route("/reset/code", methods=["GET", "POST"])
@limiter.limit("60 per hour", methods=["POST"])
def reset_code() -> str | Response:
    """Reset a forgotten password with a code sent to the number (no email needed)."""
    form = CodeResetForm()
    if code_submitted(form, Purpose.RESET, form.phone):
        with code_attempt(form, form.phone, catch=(verification.CodeError, InvalidInput)) as done:
            by_phone.reset_password_with_code(form.phone.data or "", form.code.data or "", form.password.data or "")
        if done:
            flash(_("密码已重置，请用新密码登录。"), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_code.html", form=form)


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit("60 per hour", methods=["POST"])
def activate() -> str | Response:
    """An imported member activates their account: code, own password, the documents; then signed in."""
    form = ActivateForm()
    if request.method == "GET":
        form.show_versions(legal.current_versions())
    if code_submitted(form, Purpose.ACTIVATE, form.phone):
        refusals = (verification.CodeError, legal.DocumentsChanged, InvalidInput)
        with code_attempt(form, form.phone, catch=refusals) as done:
            user = by_phone.activate_with_code(
                form.phone.data or "",
                form.code.data or "",
                form.password.data or "",
                form.shown_versions(),
                this_device(),
            )
        if done:
            login_user(user)
            flash(_("账号已激活，欢迎来到职工之家！"), "success")
            return redirect(url_for("web.home"))
    return render_template("accounts/activate.html", form=form, documents=legal.DOCUMENTS)


@bp.route("/phone", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"])
def change_phone() -> str | Response:
    """Change one's number: the new number is proved by a code sent to it."""
    form = ChangePhoneForm()
    if code_submitted(form, Purpose.CHANGE_PHONE, form.new_phone):
        user = me()
        refusals = (verification.CodeError, services.PhoneTaken, InvalidInput)
        with code_attempt(form, form.new_phone, catch=refusals) as done:
            by_phone.change_phone_with_code(user, form.new_phone.data or "", form.code.data or "", this_device())
        if done:
            login_user(user)
            flash(_("手机号已更换，其他设备上的登录已退出。"), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_phone.html", form=form, user=me())
