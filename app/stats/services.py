"""The province's figures: per period, organization subtree and kind, with their breakdowns.

Definitions (every page, export and test uses these):
- an event counts in a period when it is not cancelled and starts inside the period; sessions/visits/departures
  are such events of each kind; slots offered is the capacity of their slots;
- sign-ups (trips: applicants) are registrations in any state; places allocated (screenings: booked) are those
  confirmed, attended or no-show; attendees are those checked in (attended); no-show rate is
  no-show / (attended + no-show); a waitlist conversion is a registration that got its seat from the waitlist and
  kept it (allocated);
- people reached are distinct people who attended (an anonymised row of a deleted account counts as one person).
Registration figures come from the roll-up (``stats.rollup``), event figures straight from the event tables.
Each kind's own section (its headline figures, and what only it counts, such as a mixer's couples) comes from the
kind registry (``events.figures``): the statistics never name a kind or read a kind's tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from .. import clock
from ..accounts.models import Role, User
from ..accounts.scope import manages
from ..errors import InvalidInput, NotFound
from ..events.figures import KindFigures
from ..events.kinds import registered_kinds
from ..events.models import Event
from ..extensions import db
from ..orgs.models import Organization
from ..orgs.reference import PROVINCE_ORG_CODE
from ..orgs.services import get_by_code, in_subtree
from .models import (
    DIM_ETYPE,
    PERSON_DIMS,
)
from .queries import (
    Filters,
    event_counts,
    events_where,
    people_reached,
    refreshed_at,
    rollup_all,
    rollup_people,
    slots_offered,
)
from .rollup import MEASURES
from .tables import (
    Cell,
    Headline,
    Section,
    StatTable,
    city_table,
    dim_table,
    fmt,
    headline_table,
    make_cell,
    month_table,
    rate,
)

TABLE_KEYS = ("headline", "city", "month", "gender", "age", "etype", "industry")


@dataclass
class Figures:
    filters: Filters
    suppressed: bool
    threshold: int
    sections: list[Section]
    tables: dict[str, StatTable]
    raw: dict[str, Any]
    refreshed_at: datetime | None


# --- who may see what ------------------------------------------------------------------------------------------


def province_org() -> Organization:
    org = get_by_code(PROVINCE_ORG_CODE)
    if org is None:
        raise NotFound()
    return org


def viewer_scope(user: User) -> Organization:
    """The organization whose subtree a viewer manages: the province for an admin, their own for an organizer."""
    if user.role == Role.ADMIN:
        return province_org()
    if user.role == Role.ORGANIZER and user.organization is not None:
        return user.organization
    raise NotFound()


def resolve_org(user: User, org_id: int | None) -> tuple[Organization, bool]:
    """The organization a viewer asked for and whether its figures must be suppressed. A viewer sees exact
    figures for the subtree they manage; an organizer may also compare with the whole province, which lies
    beyond their own rosters and is therefore suppressed; any other organization answers 404."""
    scope = viewer_scope(user)
    if org_id is None:
        return scope, False
    org = db.session.get(Organization, org_id)
    if org is not None and manages(user, org):
        return org, False
    province = province_org()
    if org is not None and org.id == province.id:
        return province, True
    raise NotFound()


def make_filters(
    org: Organization,
    *,
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
    kind: str | None = None,
) -> Filters:
    """Build the period: a whole year, or a date range inside 2000–2100 that does not end before it starts."""
    if kind not in (None, "", *registered_kinds()):
        raise InvalidInput(_("活动类型不正确。"))
    if start is not None or end is not None:
        first = start or date((end or clock.today()).year, 1, 1)
        last = end or date(first.year, 12, 31)
    else:
        chosen = year or clock.today().year
        first, last = date(chosen, 1, 1), date(chosen, 12, 31)
    if last < first:
        raise InvalidInput(_("结束日期不能早于开始日期。"))
    if first.year < 2000 or last.year > 2100:
        raise InvalidInput(_("日期超出范围。"))
    return Filters(start=first, end=last, org=org, kind=kind or None)


# --- queries -----------------------------------------------------------------------------------------------------


# --- assembling the figures --------------------------------------------------------------------------------------


def kind_figures() -> list[tuple[str, KindFigures]]:
    """The registered kinds and what each contributes to the statistics, in display order (the kind registry:
    the statistics never name a kind)."""
    contributions = [(kind, policy.figures) for kind, policy in registered_kinds().items()]
    return sorted(contributions, key=lambda pair: pair[1].position)


def kind_labels() -> dict[str, str]:
    """The kinds the dashboard can be filtered by, with their labels, in display order."""
    return {kind: str(figures.label) for kind, figures in kind_figures()}


def _add(target: list[int], values: Any) -> None:
    for index, value in enumerate(values):
        target[index] += int(value or 0)


def _zeros() -> list[int]:
    return [0] * len(MEASURES)


@dataclass
class _Counts:
    """What ``compute`` counted for its filters: the roll-up's measures and the events by kind, city and month,
    its measures by person dimension and value, and the people reached by kind ("" for all)."""

    filters: Filters
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(_zeros))
    by_city: dict[int, list[int]] = field(default_factory=lambda: defaultdict(_zeros))
    by_month: dict[tuple[int, int], list[int]] = field(default_factory=lambda: defaultdict(_zeros))
    people: dict[str, dict[str, list[int]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(_zeros)))
    events_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    events_by_city: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    events_by_month: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    reach: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, filters: Filters) -> _Counts:
        """Everything the figures share, read once for every kind."""
        counts = cls(filters)
        for kind, city_id, year, month, *values in rollup_all(filters):
            _add(counts.by_kind[kind], values)
            _add(counts.by_city[city_id], values)
            _add(counts.by_month[(int(year), int(month))], values)
        for dim, value, *values in rollup_people(filters):
            _add(counts.people[dim][value], values)
        for kind, city_id, year, month, count in event_counts(filters):
            counts.events_by_kind[kind] += count
            counts.events_by_city[city_id] += count
            counts.events_by_month[(year, month)] += count
        counts.reach = people_reached(filters)
        return counts

    def measure(self, kind: str | None, name: str) -> int:
        """A measure summed over ``kind``'s registrations (every kind in the filter for ``None``)."""
        index = MEASURES.index(name)
        if kind is None:
            return sum(values[index] for values in self.by_kind.values())
        return self.by_kind[kind][index] if kind in self.by_kind else 0

    def had_any(self, kind: str) -> bool:
        """True when ``kind`` had events or registrations counted (a kind not always shown then shows)."""
        return bool(self.events_by_kind.get(kind)) or kind in self.by_kind


@dataclass(frozen=True)
class KindTally:
    """The shared counts of one kind, handed to its figures (``events.figures.Tally``)."""

    kind: str
    counts: _Counts

    @property
    def start(self) -> date:
        return self.counts.filters.start

    @property
    def end(self) -> date:
        return self.counts.filters.end

    @property
    def organization(self) -> Organization:
        return self.counts.filters.org

    def events(self) -> int:
        return self.counts.events_by_kind.get(self.kind, 0)

    def event_ids(self) -> Select[int]:
        return select(Event.id).where(*events_where(self.counts.filters), Event.kind == self.kind)

    def slots_offered(self) -> int:
        return slots_offered(self.counts.filters, self.kind)

    def measure(self, name: str) -> int:
        return self.counts.measure(self.kind, name)

    def by_enterprise_type(self, name: str) -> dict[str, int]:
        index = MEASURES.index(name)
        return {value: values[index] for value, values in self.counts.people.get(DIM_ETYPE, {}).items()}

    def people(self) -> int:
        return self.counts.reach.get(self.kind, 0)


def _all_figures(counts: _Counts) -> dict[str, Any]:
    """The overall section, over every kind in the filter: no-show rate is no-show / (attended + no-show)."""
    kind = counts.filters.kind
    attended, no_show = counts.measure(kind, "attended"), counts.measure(kind, "no_show")
    return {
        "reached": counts.reach.get("", 0),
        "signups": counts.measure(kind, "signups"),
        "attended": attended,
        "no_show": no_show,
        "no_show_rate": round(100.0 * no_show / (attended + no_show), 1) if attended + no_show else None,
        "converted": counts.measure(kind, "converted"),
    }


def compute(filters: Filters, *, suppress: bool = False) -> Figures:
    """Every figure of the dashboard for ``filters``. With ``suppress`` (figures shown beyond the viewer's own
    rosters, or in public) counts under STATS_SUPPRESSION_THRESHOLD show as "<5", with secondary suppression in
    the breakdown tables. Each kind in the filter gives its own section through the kind registry; without a
    kind filter, the kinds always shown and those that had any events or registrations. Reads only; writes
    nothing."""
    threshold = int(current_app.config.get("STATS_SUPPRESSION_THRESHOLD", 5))
    counts = _Counts.read(filters)
    kinds = kind_figures()
    shown = [
        (kind, figures)
        for kind, figures in kinds
        if kind == filters.kind or (not filters.kind and (figures.always_shown or counts.had_any(kind)))
    ]
    raw: dict[str, Any] = {kind: figures.figures(KindTally(kind, counts)) for kind, figures in shown}
    raw["all"] = _all_figures(counts)
    sections = [
        _section(kind, str(figures.title), figures.headlines, raw[kind], figures.not_people, suppress, threshold)
        for kind, figures in shown
    ]
    sections.append(_section("all", _("总体"), ALL_LABELS, raw["all"], frozenset(), suppress, threshold))
    measures = _measures_shown(filters.kind, kinds)
    tables = {
        "headline": headline_table(sections),
        "city": city_table(counts.by_city, counts.events_by_city, measures, suppress, threshold),
        "month": month_table(
            filters.start, filters.end, counts.by_month, counts.events_by_month, measures, suppress, threshold
        ),
        **{dim: dim_table(dim, counts.people, measures, suppress, threshold) for dim in PERSON_DIMS},
    }
    return Figures(filters, suppress, threshold, sections, tables, raw, refreshed_at())


def _measures_shown(kind: str | None, kinds: list[tuple[str, KindFigures]]) -> list[str]:
    """The measures of the breakdown tables: all of them without a kind filter; with one, all but those only
    other kinds fill (the two-cancer screenings are not a mixer's)."""
    if kind is None:
        return list(MEASURES)
    mine = {measure for each, figures in kinds if each == kind for measure in figures.measures}
    others = {measure for each, figures in kinds if each != kind for measure in figures.measures}
    return [measure for measure in MEASURES if measure in mine or measure not in others]


ALL_LABELS = {
    "reached": _l("服务职工（去重）"),
    "signups": _l("报名人次"),
    "attended": _l("到场人次"),
    "no_show": _l("未到场人次"),
    "no_show_rate": _l("爽约率"),
    "converted": _l("候补转正"),
}


def _section(
    key: str,
    title: str,
    labels: Mapping[str, Any],
    values: dict[str, Any],
    not_people: frozenset[str],
    suppress: bool,
    threshold: int,
) -> Section:
    """A section's headline cells: people are suppressed under the threshold, ``not_people`` never are, and
    the no-show rate shows only over enough people."""
    items = []
    for name, label in labels.items():
        value = values[name]
        if name == "no_show_rate":
            cell = rate(values["no_show"], values["attended"] + values["no_show"], suppress=suppress,
                        threshold=threshold)  # fmt: skip
        elif name in not_people:
            cell = Cell(value, fmt(value))  # events, places offered, a target: nobody to single out
        else:
            cell = make_cell(value, suppress=suppress, threshold=threshold)
        items.append(Headline(name, str(label), cell))
    return Section(key, title, items)


def org_choices(user: User) -> list[Organization]:
    """Organizations a viewer may pick: their subtree (to three levels below), then the province for an
    organizer's comparison."""
    scope = viewer_scope(user)
    depth = scope.path.count("/")
    orgs = [
        org
        for org in db.session.scalars(select(Organization).where(in_subtree(scope)).order_by(Organization.path))
        if org.path.count("/") <= depth + 2
    ][:300]
    if scope.code != PROVINCE_ORG_CODE:
        orgs.append(province_org())
    return orgs


def public_figures(year: int | None = None) -> Figures:
    """The province's headline figures for the public page: always suppressed."""
    return compute(make_filters(province_org(), year=year), suppress=True)


def dashboard(
    user: User,
    *,
    org_id: int | None = None,
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
    kind: str | None = None,
) -> Figures:
    """The figures ``user`` asked for: an admin sees any organization of the province, an organizer their own
    subtree exactly and the province suppressed; anything else answers 404 (NotFound)."""
    org, suppress = resolve_org(user, org_id)
    return compute(make_filters(org, year=year, start=start, end=end, kind=kind), suppress=suppress)
