"""One way to write an HTML view (the shell's view support): run a service, commit once on success; on a domain
error roll back and show its message — on the form's fields when a form is given and the error names them,
flashed otherwise — then render or redirect. Also the helpers every feature's pages share: the logged-in user,
the safe "back" redirect, a form's validation errors as flashed messages.

    with attempt() as done:
        count = lifecycle.cancel_event(me(), found, reason)
    if done:
        flash(_("活动已取消……"), "success")
    return redirect(url_for("organizer.event", event_id=found.id))

Shell code: it imports Flask, the database session and the domain errors (the user model for typing only),
never a feature.
JSON views (the API) keep their own handling: the error handlers turn a ``DomainError`` into JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from .errors import DomainError, InvalidInput, NotFound
from .extensions import db

if TYPE_CHECKING:
    from .accounts.models import User

ErrorTypes = type[DomainError] | tuple[type[DomainError], ...]


def me() -> User:
    """The logged-in user as the model object itself, never the ``current_user`` proxy (login-required views)."""
    return cast("User", current_user._get_current_object())


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after login or a language switch (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def back(default: str) -> Response:
    """Redirect to the page the form came from (its ``next`` field, same-site only), else to ``default``."""
    return redirect(safe_next(request.form.get("next"), default))


def flash_form_errors(form: FlaskForm) -> None:
    """A form that did not validate, its messages flashed (for forms posted from another page)."""
    for messages in form.errors.values():
        for message in messages if isinstance(messages, list) else [messages]:
            flash(str(message) if not isinstance(message, dict) else _("请检查填写的内容。"), "error")


def show_error(error: DomainError, form: FlaskForm | None = None, *, details: bool = False) -> None:
    """Show a refused request. With a form: an ``InvalidInput``'s field messages on the fields the form has (the
    rest flashed), the message flashed when it names no field. Without: the message flashed, followed (with
    ``details``) by the field messages that differ from it."""
    fields = error.fields if isinstance(error, InvalidInput) else {}
    if form is not None:
        for name, messages in fields.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, *messages]
            else:
                for message in messages:
                    flash(message, "error")
        if not fields:
            flash(error.message, "error")
        return
    flash(error.message, "error")
    if details:
        for messages in fields.values():
            for message in messages:
                if message != error.message:
                    flash(message, "error")


def flash_or_404(error: DomainError) -> None:
    """For ``attempt(show=...)``: an object out of reach answers the plain 404 page; any other refusal is flashed."""
    if isinstance(error, NotFound):
        abort(404)
    show_error(error)


class Attempt:
    """The context manager :func:`attempt` returns; true after the block when the service succeeded."""

    def __init__(
        self,
        form: FlaskForm | None,
        catch: ErrorTypes,
        let_through: ErrorTypes,
        details: bool,
        show: Callable[[DomainError], None] | None,
        commit_on_error: bool | ErrorTypes,
    ) -> None:
        self.form = form
        self.catch = catch
        self.let_through = let_through
        self.details = details
        self.show = show
        self.commit_on_error = commit_on_error
        self.error: DomainError | None = None

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        if error is None:
            db.session.commit()
            return False
        if not isinstance(error, self.catch) or isinstance(error, self.let_through):
            return False  # a 404 (or an error this view does not handle) goes on to the error pages
        recorded = (
            self.commit_on_error if isinstance(self.commit_on_error, bool) else isinstance(error, self.commit_on_error)
        )
        if recorded:
            db.session.commit()
        else:
            db.session.rollback()
        self.error = error
        if self.show is not None:
            self.show(error)
        else:
            show_error(error, self.form, details=self.details)
        return True

    def __bool__(self) -> bool:
        return self.error is None

    @property
    def ok(self) -> bool:
        return self.error is None


def attempt(
    form: FlaskForm | None = None,
    *,
    catch: ErrorTypes = DomainError,
    let_through: ErrorTypes = (),
    details: bool = False,
    show: Callable[[DomainError], None] | None = None,
    commit_on_error: bool | ErrorTypes = False,
) -> Attempt:
    """Run the ``with`` block as one unit of work: commit when it ends normally; when it raises one of ``catch``
    (not one of ``let_through``, e.g. ``NotFound`` so that it answers 404), roll back (commit, with
    ``commit_on_error`` — True, or the error types it names — when the refusal itself is recorded), show the
    error (``show``, else :func:`show_error` with ``form`` and ``details``) and carry on after the block. Any
    other exception propagates."""
    return Attempt(form, catch, let_through, details, show, commit_on_error)
