"""Send groups and batch requests, for channels whose server takes many messages in one request
(``BatchingChannel``: an SMS gateway with ``SMS_GATEWAY_BATCH`` above 1).

Delivery sends a claimed batch in send groups, each group's outcomes committed together (``delivery.send_group``).
``send_groups`` cuts them channel by channel: ``NOTIFY_SEND_GROUP`` rows at a time, or a whole request's worth
when the channel's requests hold more — the messages of one request are accepted together, so their outcomes are
committed together. A crashed sender then sends at most that request again; the gateway drops a repeated message
id. Inside a group, ``Batches`` holds a batching channel's encoded messages and transmits them in as few requests
as its ``batch_size`` allows; every other channel's messages go out one by one, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

from . import BatchingChannel, Channel, DeliveryError, Envelope, batch_size

T = TypeVar("T")


def send_groups(
    items: Sequence[T], channel_of: Callable[[T], str], channels: Mapping[str, Channel], group: int
) -> Iterator[list[T]]:
    """Cut ``items`` into send groups: each channel's items in their order, ``group`` at a time, or the channel's
    ``batch_size`` at a time when that is larger."""
    runs: dict[str, list[T]] = {}
    for item in items:
        runs.setdefault(channel_of(item), []).append(item)
    for name, run in runs.items():
        size = max(group, batch_size(channels.get(name)), 1)
        for start in range(0, len(run), size):
            yield run[start : start + size]


class Batches(Generic[T]):
    """A send group's encoded messages for the channels that batch, each with its item (whatever the caller records
    the outcome on). ``take`` queues a message; ``transmit`` sends the queue and answers each item's outcome."""

    def __init__(self) -> None:
        self._queued: dict[str, tuple[BatchingChannel, list[tuple[T, Envelope, Any]]]] = {}
        self._batchers: dict[str, BatchingChannel | None] = {}  # asked once per channel: a protocol check is slow

    def take(self, channel: Channel, item: T, envelope: Envelope, encoded: Any) -> bool:
        """Queue the message if ``channel`` batches (``batch_size`` above 1); False: the caller transmits it alone."""
        if channel.name not in self._batchers:
            batcher = channel if isinstance(channel, BatchingChannel) and batch_size(channel) > 1 else None
            self._batchers[channel.name] = batcher
        batcher = self._batchers[channel.name]
        if batcher is None:
            return False
        self._queued.setdefault(channel.name, (batcher, []))[1].append((item, envelope, encoded))
        return True

    def transmit(self) -> list[tuple[T, DeliveryError | None]]:
        """Send the queued messages, ``batch_size`` to a request, one request after the other, and empty the queue.
        Each item comes back with its outcome: None (delivered) or its ``DeliveryError`` — the request's own error
        for each of its messages when the request as a whole failed. Any other exception propagates (a bug: the
        caller records nothing, and the rows are sent again once their leases expire)."""
        outcomes: list[tuple[T, DeliveryError | None]] = []
        for channel, queued in self._queued.values():
            size = batch_size(channel)
            for start in range(0, len(queued), size):
                chunk = queued[start : start + size]
                try:
                    answers = channel.transmit_batch([m[1] for m in chunk], [m[2] for m in chunk])
                except DeliveryError as error:
                    answers = [error] * len(chunk)
                outcomes.extend((m[0], answer) for m, answer in zip(chunk, answers, strict=True))
        self._queued.clear()
        return outcomes


__all__ = ["Batches", "send_groups"]
