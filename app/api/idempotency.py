"""Retry-safe API writes: a request sent again with the same ``Idempotency-Key`` gets the first answer again.

Phones on a flaky network resend a booking whose answer they never received; without a key the second attempt
would answer "already registered" although the first one succeeded. With ``Idempotency-Key: <any text up to 255
printable ASCII characters>`` on ``POST /slots/<id>/registrations`` or ``DELETE /registrations/<id>``:

- the first request runs; its answer is stored in the same transaction as the change it made, so a change is
  never committed without its answer (and a refused request, which changes nothing, stores nothing: a retry
  simply asks again);
- a retry with the same key and the same method, path and body gets the stored answer (header
  ``Idempotent-Replayed: true``), even while the first is still running: the second waits on the key's unique
  row until the first commits;
- the same key with another method, path or body is refused with 422 ``idempotency_key_reused``.

Keys belong to one person (two people may use the same text) and are forgotten after ``IDEMPOTENCY_KEY_HOURS``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..accounts.bearer import api_user
from ..errors import DomainError, InvalidInput
from ..extensions import db
from .models import IdempotentRequest

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    http_status = 422

    def default_message(self) -> str:
        return _("这个幂等键已用于另一个请求，请换一个新的键。")


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and body (JSON compared by value, not by spacing)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def stored_answer(user_id: int, key: str, request_fingerprint: str) -> StoredAnswer | None:
    """The answer already given to this person's request under ``key``, or None if the key is new. The same key
    on a different request is refused (IdempotencyKeyReused): the client reused a key by mistake."""
    found = db.session.execute(
        select(IdempotentRequest.fingerprint, IdempotentRequest.status_code, IdempotentRequest.body).where(
            IdempotentRequest.user_id == user_id, IdempotentRequest.key == key
        )
    ).first()
    if found is None:
        return None
    if found.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused()
    return StoredAnswer(int(found.status_code or 200), found.body)


def reserve(user_id: int, key: str, request_fingerprint: str) -> IdempotentRequest:
    """Claim ``key`` for this request (flushed): a concurrent request with the same key waits here until this
    one's transaction ends, then fails with IntegrityError if it committed."""
    entry = IdempotentRequest(user_id=user_id, key=key, fingerprint=request_fingerprint)
    db.session.add(entry)
    db.session.flush()
    return entry


def purge_expired(now: datetime) -> int:
    """Forget keys older than ``IDEMPOTENCY_KEY_HOURS`` (a client retries within minutes, not days)."""
    hours = int(current_app.config.get("IDEMPOTENCY_KEY_HOURS", 24))
    result = db.session.execute(
        delete(IdempotentRequest).where(IdempotentRequest.created_at < now - timedelta(hours=hours))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _replay(answer: StoredAnswer) -> Response:
    response = jsonify(answer.body)
    response.status_code = answer.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _key_from_header() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(fields={HEADER: [_("必须是 1 到 255 个可打印的 ASCII 字符。")]})
    return key


def idempotent(view: F) -> F:
    """View decorator (after ``token_required``): replay the stored answer of a retried request, or run the
    view with the key reserved; the view calls ``remember_answer`` before its commit."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _key_from_header()
        if key is None:
            return view(*args, **kwargs)
        user_id = api_user().id
        request_fingerprint = fingerprint(request.method, request.path, request.get_data(cache=True))
        answer = stored_answer(user_id, key, request_fingerprint)
        if answer is not None:
            return _replay(answer)
        try:
            g.idempotent_request = reserve(user_id, key, request_fingerprint)
        except IntegrityError:
            # The same request under the same key committed meanwhile (a retry that overtook a slow first try).
            db.session.rollback()
            answer = stored_answer(user_id, key, request_fingerprint)
            if answer is None:
                raise
            return _replay(answer)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def remember_answer(body: Any, status_code: int) -> None:
    """Store the answer of the running request under its key, in the transaction about to commit (no-op for a
    request sent without a key)."""
    entry: IdempotentRequest | None = g.pop("idempotent_request", None)
    if entry is not None:
        entry.status_code = status_code
        entry.body = body
