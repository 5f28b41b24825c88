"""The moment every test starts at (see ``tests/conftest.py``): ``ZHIJIA_TEST_NOW`` when set, else an ordinary
weekday morning. Kept apart from the conftest so tests that reset the clock mid-way can name it."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

ORDINARY_MOMENT = datetime(2026, 6, 10, 9, 30)  # a Wednesday morning in June: no year end, no leap day


def suite_moment() -> datetime:
    """The China wall-clock time a test starts at: ``ZHIJIA_TEST_NOW`` (ISO 8601) or ``ORDINARY_MOMENT``."""
    raw = os.environ.get("ZHIJIA_TEST_NOW", "").strip()
    if not raw:
        return ORDINARY_MOMENT
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=None, microsecond=0)
    except ValueError as error:
        raise pytest.UsageError(f"ZHIJIA_TEST_NOW={raw!r} is not an ISO 8601 date and time") from error
