"""The privacy policy and user agreement pages (every version, both languages), and accepting a new version at
the next sign-in: until the person accepts, every page leads to the acceptance page. Thin: parse, call, commit."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..extensions import db
from ..webviews import me, safe_next
from . import legal
from .models import User
from .phone_forms import AcceptDocumentsForm

legal_bp = Blueprint("legal", __name__, url_prefix="/legal")

PENDING = "legal_documents_pending"
# Pages reachable while a new version waits for acceptance: the documents themselves, the acceptance page,
# logging out and switching language.
OPEN_ENDPOINTS = frozenset({"legal.document", "legal.accept", "accounts.logout", "web.switch_language", "static"})


def after_sign_in(user: User, next_url: str | None) -> Response:
    """Where a fresh sign-in goes: to the acceptance page when a document ``user`` accepted has a newer version,
    else to ``next``."""
    target = safe_next(next_url, url_for("web.home"))
    if legal.outdated_documents(user):
        session[PENDING] = True
        return redirect(url_for("legal.accept", next=target))
    session.pop(PENDING, None)
    return redirect(target)


@legal_bp.before_app_request
def _documents_first() -> Response | None:
    if not session.get(PENDING) or request.endpoint in OPEN_ENDPOINTS or request.blueprint == "api":
        return None
    if not current_user.is_authenticated:
        session.pop(PENDING, None)
        return None
    return redirect(url_for("legal.accept", next=request.full_path if request.method == "GET" else None))


def _retention() -> dict[str, int]:
    keys = (
        "RETENTION_REGISTRATION_YEARS",
        "RETENTION_OUTBOX_DAYS",
        "RETENTION_LOGIN_DAYS",
        "RETENTION_WITHDRAWN_CONSENT_YEARS",
        "NOTIFY_INBOX_RETENTION_DAYS",
        "MIXER_CONTACT_RETENTION_DAYS",
        "TRIP_ATTENDANCE_RETENTION_DAYS",
    )
    return {key: int(current_app.config.get(key, 0)) for key in keys}


@legal_bp.get("/<code>")
@legal_bp.get("/<code>/<version>")
def document(code: str, version: str | None = None) -> str:
    doc = legal.document(code)
    shown = doc.version(version) if version else doc.current
    return render_template(
        "legal/document.html",
        doc=doc,
        shown=shown,
        body=doc.template(shown.version, str(get_locale() or "zh_CN")),
        retention=_retention(),
        contact_email=current_app.config.get("PRIVACY_CONTACT_EMAIL"),
        contact_address=current_app.config.get("PRIVACY_CONTACT_ADDRESS"),
    )


@legal_bp.route("/accept", methods=["GET", "POST"])
@login_required
def accept() -> str | Response:
    user = me()
    form = AcceptDocumentsForm()
    if request.method == "GET":
        form.show_versions(legal.current_versions())
    next_url = safe_next(request.args.get("next"), url_for("web.home"))
    if form.validate_on_submit():
        try:
            legal.accept_documents(user, form.shown_versions())
        except legal.DocumentsChanged as error:
            db.session.rollback()
            form.show_versions(legal.current_versions())
            form.accept_documents.errors = [error.message]
        else:
            db.session.commit()
            session.pop(PENDING, None)
            flash(_("已记录您对新版本的同意。"), "success")
            return redirect(next_url)
    return render_template(
        "legal/accept.html", form=form, outdated=legal.outdated_documents(user), documents=legal.DOCUMENTS
    )
