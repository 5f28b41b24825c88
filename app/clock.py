"""The app's one source of "now".

All times are naive wall-clock times in China Standard Time (Asia/Shanghai, UTC+8, no daylight saving): every
user, event and scheduler of the federation lives in that zone. Services ask ``clock.now()`` instead of
``datetime.now()`` so tests and the scheduler's catch-up logic can move time deliberately.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

_frozen: datetime | None = None


def now() -> datetime:
    """Current China wall-clock time, without tzinfo and without microseconds."""
    if _frozen is not None:
        return _frozen
    return datetime.now(CHINA).replace(tzinfo=None, microsecond=0)


def today() -> date:
    return now().date()


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at ``moment`` (``None`` thaws it). For tests and the demo only."""
    global _frozen
    _frozen = moment


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward (freezing it at the current time first if needed)."""
    set_now(now() + delta)
    return now()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    previous = _frozen
    set_now(moment)
    try:
        yield
    finally:
        set_now(previous)


def to_utc(moment: datetime) -> datetime:
    """Convert a China wall-clock time to an aware UTC datetime (for .ics files and HTTP headers)."""
    return moment.replace(tzinfo=CHINA).astimezone(UTC)


def age_on(birth_date: date, on: date) -> int:
    """Whole years of age on ``on``; a person born on 29 February turns a year older on 1 March."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
