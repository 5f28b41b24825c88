"""What a kind contributes to the statistics: the typed hook its policy provides (``KindPolicy.figures``).

The statistics never name a kind or read a kind's tables: they ask the kind registry. They count what every kind
shares (events, registrations by state, people reached) and hand each kind a ``Tally`` of those counts, bound to
that kind and to the period and organization subtree shown; the kind returns its headline figures, reading its
own tables through its own models for the rest (a mixer's pairs, a trip's yearly target). For the roll-up, a
kind names the per-registration counts it fills beyond the states (``RegistrationCount``: the two-cancer
screenings) and the events whose figures changed without a registration changing (``changed_events``).

The base ``KindFigures`` is the generic activity's (held, sign-ups, attended), shown only when there were any.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, FromClause, Select
from sqlalchemy.orm import QueryableAttribute

if TYPE_CHECKING:
    from ..orgs.models import Organization

Value = int | float | None


class Tally(Protocol):
    """The shared counts of one kind for the period, organization subtree and kind filter shown."""

    @property
    def start(self) -> date:
        """The period's first day."""

    @property
    def end(self) -> date:
        """The period's last day (inclusive)."""

    @property
    def organization(self) -> Organization:
        """The organization whose subtree is counted."""

    def events(self) -> int:
        """Events of the kind counted: not cancelled and starting inside the period."""

    def event_ids(self) -> Select[int]:
        """The ids of those events, to filter the kind's own tables with."""

    def slots_offered(self) -> int:
        """The capacity of every slot of those events."""

    def measure(self, name: str) -> int:
        """A roll-up measure of the kind's registrations: signups, allocated, attended, no_show, converted, or a
        measure a kind fills (``RegistrationCount.measure``)."""

    def by_enterprise_type(self, name: str) -> Mapping[str, int]:
        """A roll-up measure per enterprise type (``EnterpriseType`` value, or "unknown" for a deleted account),
        over every kind in the filter: use it for a measure only this kind fills."""

    def people(self) -> int:
        """Distinct people of the kind who attended."""


@dataclass(frozen=True)
class RegistrationCount:
    """A roll-up measure a kind fills per registration: an attended registration counts in ``measure`` when
    ``counts`` holds on the kind's row of ``table`` (outer-joined where ``registration_id`` is the registration's
    id; no row, no count). ``measure`` is a column of the roll-up."""

    measure: str
    table: FromClause
    registration_id: ColumnElement[int] | QueryableAttribute[int]
    counts: ColumnElement[bool]


class KindFigures:
    """A kind's section of the statistics: its label in the kind filter, its section title, its headline figures
    in display order, and what the roll-up needs from it. The base is the generic activity's."""

    # Sections and filter choices follow this order.
    position: int = 90
    label: Any = _l("其他活动")
    title: Any = _l("其他活动")
    # True: the section shows even when the period had none of the kind (a service the province reports on).
    always_shown: bool = False
    headlines: ClassVar[Mapping[str, Any]] = {
        "held": _l("举办场次"),
        "signups": _l("报名人次"),
        "attended": _l("参加人次"),
    }
    # Figures that count no person (events, places offered, a target): never suppressed.
    not_people: frozenset[str] = frozenset({"held"})
    registration_counts: tuple[RegistrationCount, ...] = ()

    @property
    def measures(self) -> frozenset[str]:
        """The roll-up measures only this kind fills (its breakdown tables show them)."""
        return frozenset(count.measure for count in self.registration_counts)

    def figures(self, tally: Tally) -> dict[str, Value]:
        """The kind's headline figures (keys of ``headlines``) from the shared counts and its own tables."""
        return {"held": tally.events(), "signups": tally.measure("signups"), "attended": tally.measure("attended")}

    def changed_events(self, since: datetime) -> set[int]:
        """Events whose figures changed since ``since`` without a registration changing state (the roll-up
        recounts them)."""
        return set()
