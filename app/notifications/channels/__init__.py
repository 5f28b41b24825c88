"""Delivery channels behind one interface: ``open()`` once per tick, then per message ``encode(envelope)`` (the
work done in the process: the MIME message, the gateway's request body) and ``transmit(envelope, encoded)``
(the conversation with the server), or both at once with ``send(envelope)``; ``close()`` at the end.

Delivery encodes the next message while the previous one is being transmitted (``delivery.send_group``), so
``transmit`` may run on another thread than ``encode`` — never two ``transmit`` calls of a channel at once.
``encode`` and ``transmit`` raise ``DeliveryError`` when the message did not go out and should be retried
later; anything ``transmit`` returns without raising counts as delivered. The inbox channel is different: it
is written inside the database transaction that marks the row sent (see ``delivery``), so it never needs a
retry.

A channel whose server takes many messages in one request (an SMS gateway's batch API) is also a
``BatchingChannel``: ``batch_size`` says how many it takes at once (1: it does not batch, as configured), and
``transmit_batch`` sends that many encoded messages and answers for each. Delivery asks ``batch_size(channel)``
and sends such a channel's messages of a send group through ``batches.Batches``; ``send`` (a verification code
goes out at once) is always one message in one request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ...accounts.models import User
from ..messages import Rendered


class DeliveryError(Exception):
    """The channel could not deliver now (server down, refused, timeout); the row is retried with backoff."""


class Refused(DeliveryError):
    """The provider answered and refused this message: ``reason`` is ``invalid_number``, ``quota`` or
    ``refused``; ``provider_code`` is the provider's own code (safe to log: no number, no text)."""

    def __init__(self, reason: str, provider_code: str = "") -> None:
        super().__init__(f"refused ({reason}): {provider_code}"[:500])
        self.reason = reason
        self.provider_code = provider_code


@dataclass
class Envelope:
    """One message for one channel. ``outbox_id`` and ``user`` are None for a verification code, which is sent
    at once to a number that may not have an account yet; ``params`` are a template's values for SMS gateways
    (e.g. ``{"code": "123456"}``)."""

    outbox_id: int | None
    kind: str
    user: User | None
    email: str | None
    phone: str | None
    rendered: Rendered
    message_id: str
    params: dict[str, str] = field(default_factory=dict)


class Channel(Protocol):
    name: str

    def open(self) -> None: ...

    def encode(self, envelope: Envelope) -> Any: ...

    def transmit(self, envelope: Envelope, encoded: Any) -> None: ...

    def send(self, envelope: Envelope) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class BatchingChannel(Channel, Protocol):
    """A channel that can transmit up to ``batch_size`` encoded messages in one request. ``transmit_batch``
    answers each message's outcome in their order: None (delivered) or the ``DeliveryError`` of that message
    alone (``Refused`` for a refused number: the others are delivered); it raises ``DeliveryError`` when the
    request as a whole failed (server down, refused, no answer), which is every message's outcome."""

    batch_size: int

    def transmit_batch(self, envelopes: Sequence[Envelope], encoded: Sequence[Any]) -> list[DeliveryError | None]: ...


def batch_size(channel: Channel | None) -> int:
    """How many messages ``channel`` takes in one request: its ``batch_size`` if it batches, else 1."""
    return max(channel.batch_size, 1) if isinstance(channel, BatchingChannel) else 1


def build_channels(config: dict[str, Any]) -> dict[str, Channel]:
    """One instance of each outward channel for a delivery tick, configured from the app config."""
    from .email import EmailChannel
    from .sms import sms_channel

    return {"email": EmailChannel(config), "sms": sms_channel(config)}


__all__ = ["BatchingChannel", "Channel", "DeliveryError", "Envelope", "Refused", "batch_size", "build_channels"]
