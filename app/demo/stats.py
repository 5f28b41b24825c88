"""Demo data for the statistics: nothing of its own — it counts what the other features' demo seeds booked."""

from __future__ import annotations


def seed_demo() -> None:
    """Rebuild the roll-up from every booking in the database (idempotent: the same rows each time)."""
    from ..stats.rollup import rebuild

    rebuild()
