"""How a feature joins the privacy rules (DESIGN.md §7): its part of a person's own-data export, what it scrubs
when the person deletes their account, and what it purges when a retention period ends.

A feature describes what it holds about people once, as one ``PersonalData`` (a module-level constant of its
``privacy`` module), and registers it in its ``init_app`` with ``register_personal_data``. The privacy feature
never imports it: the three privacy signals of ``app.signals`` (``privacy-export``, ``account-deleting``,
``privacy-retention``) carry the calls, so a feature's part is answered exactly as a receiver of those signals
(and tests may still send them or connect their own receivers).

Ground floor: it imports only the signals, so the core and every feature may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import LazyString

from .signals import account_deleting, privacy_export, privacy_retention


@dataclass(frozen=True)
class PersonalData:
    """One feature's share of what is held about people; every part but the name is optional.

    - ``section``: the short ASCII key of the feature's part of the export (e.g. ``"mixers"``), and its name here.
    - ``title``: the heading of that part on the export page (text, or a lazy translation).
    - ``export(user)``: the JSON-like data held about the person — their own side only, never what someone else
      said about them — or ``None`` when the feature holds nothing about them. It only reads.
    - ``forget(user)``: inside the deletion transaction, while the person's identifiers are still readable,
      removes or anonymises what the feature holds (flushes, never commits); returns the rows it changed.
    - ``expire(now)``: deletes or anonymises what has outlived its retention period at ``now`` (the period read
      from ``current_app.config``); returns the rows it changed.
    """

    section: str
    title: str | LazyString = ""
    export: Callable[[Any], Any] | None = None
    forget: Callable[[Any], int] | None = None
    expire: Callable[[datetime], int] | None = None

    def on_export(self, user: Any, **_kwargs: Any) -> tuple[str, Any, str] | None:
        """``privacy-export`` receiver: ``(section, data, title)``, or ``None`` when nothing is held."""
        data = self.export(user) if self.export is not None else None
        if data is None:
            return None
        return self.section, data, str(self.title)

    def on_deleting(self, user: Any, **_kwargs: Any) -> int:
        """``account-deleting`` receiver: the rows ``forget`` changed."""
        return self.forget(user) if self.forget is not None else 0

    def on_retention(self, now: datetime, **_kwargs: Any) -> int:
        """``privacy-retention`` receiver: the rows ``expire`` changed."""
        return self.expire(now) if self.expire is not None else 0


_registered: dict[str, PersonalData] = {}


def register_personal_data(part: PersonalData) -> None:
    """Join the export, the deletion and the retention with ``part`` (connecting the receivers of the parts it
    has, in that order). Registering the same part again is a no-op, so ``create_app`` may run many times; a
    second, different part under a section already taken is refused (two features would share one export key).
    """
    known = _registered.get(part.section)
    if known is part:
        return
    if known is not None:
        raise ValueError(f"the personal-data section {part.section!r} is already registered")
    _registered[part.section] = part
    if part.export is not None:
        privacy_export.connect(part.on_export, weak=False)
    if part.forget is not None:
        account_deleting.connect(part.on_deleting, weak=False)
    if part.expire is not None:
        privacy_retention.connect(part.on_retention, weak=False)
