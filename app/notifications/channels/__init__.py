"""Delivery channels behind one interface: ``open()`` once per tick, ``send(envelope)`` per message,
``close()``.

``send`` raises ``DeliveryError`` when the message did not go out and should be retried later; anything it
returns without raising counts as delivered. The inbox channel is different: it is written inside the database
transaction that marks the row sent (see ``delivery``), so it never needs a retry.


"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ...accounts.models import User
from ..messages import Rendered


class DeliveryError(Exception):
    """The channel could not deliver now (server down, refused, timeout); the row is retried with backoff."""


@dataclass
class Envelope:
    outbox_id: int
    kind: str
    user: User
    email: str | None
    phone: str | None
    rendered: Rendered
    message_id: str


class Channel(Protocol):
    name: str

    def open(self) -> None: ...

    def send(self, envelope: Envelope) -> None: ...

    def close(self) -> None: ...


def build_channels(config: dict[str, Any]) -> dict[str, Channel]:
    """One instance of each outward channel for a delivery tick, configured from the app config."""
    from .email import EmailChannel
    from .sms import sms_channel

    return {"email": EmailChannel(config), "sms": sms_channel(config)}


__all__ = ["Channel", "DeliveryError", "Envelope", "build_channels"]
