"""Organizer services for messages to the people of an event: choosing recipients among its registrations and
queueing one message each through the outbox (idempotent per form submission), audited.

Functions flush but never commit.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, clock, outbox
from ..accounts.models import User
from ..accounts.scope import require_manages
from ..booking.models import Registration
from ..errors import InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db

MAX_MESSAGE_RECIPIENTS = 2000


def registrations_of(actor: User, event: Event, ids: list[int]) -> list[Registration]:
    """The registrations among ``ids`` that belong to ``event`` (others are ignored, never revealed)."""
    require_manages(actor, event.organization)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Registration).where(
                Registration.event_id == event.id, Registration.id.in_(ids[:MAX_MESSAGE_RECIPIENTS])
            )
        )
    )


def message(
    actor: User,
    event: Event,
    registrations: list[Registration],
    title: str,
    body: str,
    nonce: str,
) -> int:
    """Send a message to the chosen people of an event through the outbox (kind "organizer_message"). The form's
    nonce is part of the idempotency key, so a double-submitted form sends each person one message.
    Returns how many people it was queued for."""
    require_manages(actor, event.organization)
    title, body = (title or "").strip(), (body or "").strip()
    errors: dict[str, list[str]] = {}
    if not title or len(title) > 60:
        errors["title"] = [_("标题不能为空，且不超过 60 个字。")]
    if not body or len(body) > 1000:
        errors["body"] = [_("内容不能为空，且不超过 1000 个字。")]
    if not registrations:
        errors["ids"] = [_("请至少选择一位收件人。")]
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], fields=errors)
    nonce = re.sub(r"[^A-Za-z0-9_-]", "", nonce or "")[:32] or clock.now().strftime("%Y%m%d%H%M%S")
    people: dict[int, User] = {}
    for registration in registrations:
        if registration.event_id != event.id:
            raise NotFound()
        if registration.user_id is not None and registration.user_id not in people:
            person = db.session.get(User, registration.user_id)
            if person is not None and person.is_active:
                people[person.id] = person
    for person in people.values():
        outbox.enqueue(
            person,
            "organizer_message",
            f"event:{event.id}:message:{nonce}",
            template="organizer_message",
            data={
                "event_id": event.id,
                "event_title": event.title,
                "title": title,
                "body": body,
                "from": event.organization.name,
            },
        )
    audit.record(actor, "roster.message", "event", event.id, {"recipients": len(people)}, org=event.organization)
    return len(people)
