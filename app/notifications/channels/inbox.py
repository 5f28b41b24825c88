"""The in-app inbox channel: a row in ``inbox_messages`` written in the transaction that marks the outbox row
sent, so it appears exactly once."""

from __future__ import annotations

from ...extensions import db
from ...outbox.models import OutboxMessage
from ..messages import Rendered
from ..models import InboxMessage


def materialise(message: OutboxMessage, rendered: Rendered) -> InboxMessage:
    """Add the inbox row for ``message`` (the caller won the update that marks it sent)."""
    item = InboxMessage(
        user_id=message.user_id,
        outbox_id=message.id,
        kind=message.kind,
        title=rendered.subject[:200],
        body=rendered.text,
        link=rendered.link if rendered.link and rendered.link.startswith("/") else None,
        essential=message.essential,
        created_at=message.due_at,
    )
    db.session.add(item)
    return item
