"""The province's figures: per period, organization subtree and kind, with their breakdowns.

Definitions (every page, export and test uses these):
- an event counts in a period when it is not cancelled and starts inside the period; sessions/visits/departures
  are such events of each kind; slots offered is the capacity of their slots;
- sign-ups (trips: applicants) are registrations in any state; places allocated (screenings: booked) are those
  confirmed, attended or no-show; attendees are those checked in (attended); no-show rate is
  no-show / (attended + no-show); a waitlist conversion is a registration that got its seat from the waitlist and
  kept it (allocated);
- mutual pairs are ``mixer_pairs`` of the mixers; confirmed couples the pairs whose outcome log has "dating";
- two-cancer screenings are screening bookings with two-cancer chosen, attended, and not recorded "not screened";
- people reached are distinct people who attended (an anonymised row of a deleted account counts as one person).
Registration figures come from the roll-up (``stats.rollup``), event figures straight from the event tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from .. import clock
from ..accounts.models import Role, User
from ..booking.models import Registration, Status
from ..errors import InvalidInput, NotFound
from ..events.models import Event, Slot
from ..extensions import db
from ..orgs.models import City, EnterpriseType, Industry, IndustryGroup, Organization
from ..orgs.reference import ENTERPRISE_TYPE_LABELS, PROVINCE_ORG_CODE
from ..orgs.scope import manages
from ..orgs.services import get_by_code, in_subtree
from . import sources
from .models import (
    DIM_AGE,
    DIM_ALL,
    DIM_ETYPE,
    DIM_GENDER,
    DIM_INDUSTRY,
    PERSON_DIMS,
    StatsReach,
    StatsRollup,
    StatsRollupMonth,
)
from .rollup import AGE_BANDS, MEASURES, OTHER_INDUSTRY, UNKNOWN

KINDS = ("mixer", "screening", "trip", "general")
KIND_LABELS = {"mixer": _l("单身联谊"), "screening": _l("健康体检"), "trip": _l("疗休养"), "general": _l("其他活动")}
MEASURE_LABELS = {
    "events": _l("场次"),
    "signups": _l("报名人次"),
    "allocated": _l("获得名额"),
    "attended": _l("到场人次"),
    "no_show": _l("未到场"),
    "converted": _l("候补转正"),
    "two_cancer": _l("两癌筛查"),
}
TABLE_KEYS = ("headline", "city", "month", "gender", "age", "etype", "industry")


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    org: Organization
    kind: str | None = None

    @property
    def whole_year(self) -> int | None:
        if self.start == date(self.start.year, 1, 1) and self.end == date(self.start.year, 12, 31):
            return self.start.year
        return None

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time())

    @property
    def end_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time())


@dataclass
class Cell:
    value: int | float | None
    text: str
    suppressed: bool = False


@dataclass
class Row:
    label: str
    cells: list[Cell]


@dataclass
class StatTable:
    key: str
    title: str
    header: list[str]
    rows: list[Row]
    measures: list[str] = field(default_factory=list)


@dataclass
class Headline:
    key: str
    label: str
    cell: Cell


@dataclass
class Section:
    key: str
    title: str
    items: list[Headline]


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
    if kind not in (None, "", *KINDS):
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


# --- suppression -------------------------------------------------------------------------------------------------


def _fmt(value: int | float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}%"
    return f"{value:,}"


def make_cell(value: int | float | None, *, suppress: bool, threshold: int) -> Cell:
    """A count under the threshold (but not zero) shows as "<threshold" when suppression applies."""
    if suppress and isinstance(value, int) and 0 < value < threshold:
        return Cell(None, f"<{threshold}", True)
    return Cell(value, _fmt(value))


def _suppress_rows(rows: list[Row], threshold: int) -> None:
    """Secondary suppression: when a column has exactly one suppressed cell, the next smallest is hidden too, so
    the column total cannot give the small one away."""
    if not rows:
        return
    for column in range(len(rows[0].cells)):
        cells = [row.cells[column] for row in rows]
        if sum(1 for cell in cells if cell.suppressed) != 1:
            continue
        visible = [cell for cell in cells if not cell.suppressed and isinstance(cell.value, int) and cell.value > 0]
        if visible:
            smallest = min(visible, key=lambda cell: cell.value or 0)
            smallest.value, smallest.text, smallest.suppressed = None, f"<{threshold}*", True


def _rate(numerator: int, denominator: int, *, suppress: bool, threshold: int) -> Cell:
    if denominator == 0 or (suppress and denominator < threshold):
        return Cell(None, "—")
    return Cell(round(100.0 * numerator / denominator, 1), _fmt(round(100.0 * numerator / denominator, 1)))


# --- queries -----------------------------------------------------------------------------------------------------


def _events_where(filters: Filters, model: Any = Event) -> list[Any]:
    conditions = [
        model.cancelled_at.is_(None),
        model.starts_at >= filters.start_at,
        model.starts_at < filters.end_before,
        model.organization_id.in_(select(Organization.id).where(in_subtree(filters.org))),
    ]
    if filters.kind:
        conditions.append(model.kind == filters.kind)
    return conditions


def _rollup_source(filters: Filters) -> tuple[Any, Any]:
    """The roll-up to read and its date column: per month when the period is made of whole months (a year),
    per event otherwise."""
    if filters.start.day == 1 and (filters.end + timedelta(days=1)).day == 1:
        return StatsRollupMonth, StatsRollupMonth.month
    return StatsRollup, StatsRollup.day


def _rollup_where(filters: Filters, dims: tuple[str, ...]) -> list[Any]:
    model, day = _rollup_source(filters)
    conditions = [
        model.dim.in_(dims) if len(dims) > 1 else model.dim == dims[0],
        day >= filters.start,
        day <= filters.end,
        model.org_path.startswith(filters.org.path, autoescape=True),
    ]
    if filters.kind:
        conditions.append(model.kind == filters.kind)
    return conditions


def _sums(model: Any) -> list[Any]:
    return [func.coalesce(func.sum(getattr(model, m)), 0) for m in MEASURES]


def event_counts(filters: Filters) -> list[tuple[str, int, int, int, int]]:
    """(kind, city id, year, month, events) of the events counted in the period."""
    year = func.extract("year", Event.starts_at)
    month = func.extract("month", Event.starts_at)
    stmt = (
        select(Event.kind, Event.city_id, year, month, func.count())
        .where(*_events_where(filters))
        .group_by(Event.kind, Event.city_id, year, month)
    )
    return [(k, c, int(y), int(m), n) for k, c, y, m, n in db.session.execute(stmt)]


def slots_offered(filters: Filters, kind: str) -> int:
    """Places offered: the capacity of every slot of the counted events of ``kind``."""
    stmt = select(func.coalesce(func.sum(Slot.capacity), 0)).join(Event, Event.id == Slot.event_id)
    stmt = stmt.where(*_events_where(filters), Event.kind == kind)
    return int(db.session.scalar(stmt) or 0)


def mixer_pairs(filters: Filters) -> tuple[int, int]:
    """(mutual pairs, confirmed couples) of the mixers in the period."""
    if not sources.available("mixer_pairs", "event_id"):
        return 0, 0
    pairs = sources.mixer_pairs
    mixers = select(Event.id).where(*_events_where(filters), Event.kind == "mixer")
    total = db.session.scalar(select(func.count()).select_from(pairs).where(pairs.c.event_id.in_(mixers))) or 0
    couples = 0
    if sources.available("mixer_outcomes", "pair_id", "kind"):
        outcomes = sources.mixer_outcomes
        couples = (
            db.session.scalar(
                select(func.count(func.distinct(outcomes.c.pair_id)))
                .join(pairs, pairs.c.id == outcomes.c.pair_id)
                .where(outcomes.c.kind.in_(sources.COUPLE_OUTCOMES), pairs.c.event_id.in_(mixers))
            )
            or 0
        )
    return int(total), int(couples)


def trip_target(filters: Filters) -> int | None:
    """The places target of the selected organization for the year: its ``trip_targets`` row, else the
    configured province target when the province is selected. Only for a period inside one year."""
    if filters.start.year != filters.end.year:
        return None
    if sources.available("trip_targets", "year", "organization_id", "places"):
        targets = sources.trip_targets
        found = db.session.scalar(
            select(targets.c.places).where(targets.c.year == filters.year, targets.c.organization_id == filters.org.id)
        )
        if found is not None:
            return int(found)
    if filters.org.code == PROVINCE_ORG_CODE:
        return int(current_app.config.get("TRIP_YEARLY_TARGET", 10000))
    return None


def people_reached(filters: Filters) -> dict[str, int]:
    """Distinct people who attended, in total ("") and per kind: from ``stats_reach`` for a whole year, else
    counted live (then each anonymous row of a deleted account counts as one person)."""
    if filters.whole_year is not None:
        rows = dict(
            db.session.execute(
                select(StatsReach.kind, StatsReach.people).where(
                    StatsReach.year == filters.whole_year, StatsReach.organization_id == filters.org.id
                )
            ).all()
        )
        counted = rows or db.session.scalar(
            select(func.count()).select_from(StatsReach).where(StatsReach.year == filters.year)
        )
        if counted:  # the year was counted (an empty subtree simply has no rows)
            if filters.kind:
                return {"": rows.get(filters.kind, 0), filters.kind: rows.get(filters.kind, 0)}
            return {kind: int(people) for kind, people in rows.items()}
    people = func.count(func.distinct(Registration.user_id))
    anonymous = func.coalesce(func.sum(case((Registration.user_id.is_(None), 1), else_=0)), 0)
    base = (
        select(people, anonymous)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.status == Status.ATTENDED, *_events_where(filters))
    )
    distinct, anonymous_rows = db.session.execute(base).one()
    result = {"": int(distinct or 0) + int(anonymous_rows or 0)}
    for kind, distinct, anonymous_rows in db.session.execute(
        base.with_only_columns(Event.kind, people, anonymous).group_by(Event.kind)
    ):
        result[kind] = int(distinct or 0) + int(anonymous_rows or 0)
    return result


def _rollup_all(filters: Filters) -> list[Any]:
    """Roll-up totals by kind, city and month."""
    model, day = _rollup_source(filters)
    year = func.extract("year", day)
    month = func.extract("month", day)
    stmt = (
        select(model.kind, model.city_id, year, month, *_sums(model))
        .where(*_rollup_where(filters, (DIM_ALL,)))
        .group_by(model.kind, model.city_id, year, month)
    )
    return list(db.session.execute(stmt).all())


def _rollup_people(filters: Filters) -> list[Any]:
    """Roll-up totals by person dimension and value; two-cancer screenings by enterprise type come from here
    (only screenings have two-cancer counts, so no need to group by kind)."""
    model, _day = _rollup_source(filters)
    stmt = (
        select(model.dim, model.value, *_sums(model))
        .where(*_rollup_where(filters, PERSON_DIMS))
        .group_by(model.dim, model.value)
    )
    return list(db.session.execute(stmt).all())


def refreshed_at() -> datetime | None:
    """When the roll-up was last written (its newest row: a primary-key lookup, not a scan)."""
    return db.session.scalar(select(StatsRollup.refreshed_at).order_by(StatsRollup.id.desc()).limit(1))


# --- assembling the figures --------------------------------------------------------------------------------------


def _add(target: list[int], values: Any) -> None:
    for index, value in enumerate(values):
        target[index] += int(value or 0)


def compute(filters: Filters, *, suppress: bool = False) -> Figures:
    """Every figure of the dashboard for ``filters``. With ``suppress`` (figures shown beyond the viewer's own
    rosters, or in public) counts under STATS_SUPPRESSION_THRESHOLD show as "<5", with secondary suppression in
    the breakdown tables. Reads only; writes nothing."""
    threshold = int(current_app.config.get("STATS_SUPPRESSION_THRESHOLD", 5))
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    by_city: dict[int, list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    by_month: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    for kind, city_id, year, month, *values in _rollup_all(filters):
        _add(by_kind[kind], values)
        _add(by_city[city_id], values)
        _add(by_month[(int(year), int(month))], values)
    people: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * len(MEASURES)))
    screening_by_etype: dict[str, int] = defaultdict(int)
    for dim, value, *values in _rollup_people(filters):
        _add(people[dim][value], values)
        if dim == DIM_ETYPE:
            screening_by_etype[value] += int(values[MEASURES.index("two_cancer")] or 0)
    events_by_kind: dict[str, int] = defaultdict(int)
    events_by_city: dict[int, int] = defaultdict(int)
    events_by_month: dict[tuple[int, int], int] = defaultdict(int)
    for kind, city_id, year, month, count in event_counts(filters):
        events_by_kind[kind] += count
        events_by_city[city_id] += count
        events_by_month[(year, month)] += count

    def measure(kind: str | None, name: str) -> int:
        index = MEASURES.index(name)
        if kind is None:
            return sum(values[index] for values in by_kind.values())
        return by_kind[kind][index] if kind in by_kind else 0

    reach = people_reached(filters)
    kinds_shown = [filters.kind] if filters.kind else ["mixer", "screening", "trip"]
    if not filters.kind and (events_by_kind.get("general") or "general" in by_kind):
        kinds_shown.append("general")  # other activities appear when there were any
    raw: dict[str, Any] = {}
    if "mixer" in kinds_shown:
        pairs, couples = mixer_pairs(filters)
        raw["mixer"] = {
            "held": events_by_kind.get("mixer", 0),
            "signups": measure("mixer", "signups"),
            "attendees": measure("mixer", "attended"),
            "people": reach.get("mixer", 0),
            "pairs": pairs,
            "couples": couples,
        }
    if "screening" in kinds_shown:
        raw["screening"] = {
            "visits": events_by_kind.get("screening", 0),  # one truck visit per screening event
            "slots_offered": slots_offered(filters, "screening"),
            "booked": measure("screening", "allocated"),
            "attended": measure("screening", "attended"),
            "people": reach.get("screening", 0),
            "two_cancer": measure("screening", "two_cancer"),
            "two_cancer_non_public": screening_by_etype.get(EnterpriseType.NON_PUBLIC.value, 0),
            "two_cancer_new_employment": screening_by_etype.get(EnterpriseType.NEW_EMPLOYMENT.value, 0),
        }
    if "trip" in kinds_shown:
        target = trip_target(filters)
        allocated = measure("trip", "allocated")
        raw["trip"] = {
            "departures": events_by_kind.get("trip", 0),
            "applicants": measure("trip", "signups"),
            "allocated": allocated,
            "attended": measure("trip", "attended"),
            "people": reach.get("trip", 0),
            "target": target,
            "progress": round(100.0 * allocated / target, 1) if target else None,
        }
    if "general" in kinds_shown:
        raw["general"] = {
            "held": events_by_kind.get("general", 0),
            "signups": measure("general", "signups"),
            "attended": measure("general", "attended"),
        }
    attended, no_show = measure(filters.kind, "attended"), measure(filters.kind, "no_show")
    raw["all"] = {
        "reached": reach.get("", 0),
        "signups": measure(filters.kind, "signups"),
        "attended": attended,
        "no_show": no_show,
        "no_show_rate": round(100.0 * no_show / (attended + no_show), 1) if attended + no_show else None,
        "converted": measure(filters.kind, "converted"),
    }

    sections = _sections(raw, suppress=suppress, threshold=threshold)
    show_two_cancer = filters.kind in (None, "screening")
    measures = [m for m in MEASURES if show_two_cancer or m != "two_cancer"]
    tables = {
        "city": _city_table(by_city, events_by_city, measures, suppress, threshold),
        "month": _month_table(filters, by_month, events_by_month, measures, suppress, threshold),
        "gender": _dim_table(DIM_GENDER, people, measures, suppress, threshold),
        "age": _dim_table(DIM_AGE, people, measures, suppress, threshold),
        "etype": _dim_table(DIM_ETYPE, people, measures, suppress, threshold),
        "industry": _dim_table(DIM_INDUSTRY, people, measures, suppress, threshold),
    }
    tables = {"headline": _headline_table(sections), **tables}
    return Figures(filters, suppress, threshold, sections, tables, raw, refreshed_at())


HEADLINE_LABELS: dict[str, dict[str, Any]] = {
    "mixer": {
        "held": _l("举办场次"),
        "signups": _l("报名人次"),
        "attendees": _l("参加人次"),
        "people": _l("参加人数（去重）"),
        "pairs": _l("互选配对"),
        "couples": _l("牵手成功"),
    },
    "screening": {
        "visits": _l("进园区场次"),
        "slots_offered": _l("提供名额"),
        "booked": _l("预约人次"),
        "attended": _l("体检人次"),
        "people": _l("体检人数（去重）"),
        "two_cancer": _l("两癌筛查（人）"),
        "two_cancer_non_public": _l("其中非公企业女职工"),
        "two_cancer_new_employment": _l("其中新就业形态女性劳动者"),
    },
    "trip": {
        "departures": _l("团期数"),
        "applicants": _l("申请人次"),
        "allocated": _l("安排名额"),
        "attended": _l("成行人次"),
        "people": _l("成行人数（去重）"),
        "target": _l("年度目标名额"),
        "progress": _l("目标完成率"),
    },
    "general": {"held": _l("举办场次"), "signups": _l("报名人次"), "attended": _l("参加人次")},
    "all": {
        "reached": _l("服务职工（去重）"),
        "signups": _l("报名人次"),
        "attended": _l("到场人次"),
        "no_show": _l("未到场人次"),
        "no_show_rate": _l("爽约率"),
        "converted": _l("候补转正"),
    },
}
NOT_PEOPLE = frozenset({"held", "visits", "slots_offered", "departures", "target", "progress"})
SECTION_TITLES = {
    "mixer": _l("单身青年联谊"),
    "screening": _l("健康大篷车"),
    "trip": _l("职工疗休养"),
    "general": _l("其他活动"),
    "all": _l("总体"),
}


def _sections(raw: dict[str, Any], *, suppress: bool, threshold: int) -> list[Section]:
    sections = []
    for key in ("mixer", "screening", "trip", "general", "all"):
        if key not in raw:
            continue
        items = []
        for name, label in HEADLINE_LABELS[key].items():
            value = raw[key][name]
            if name == "no_show_rate":
                cell = _rate(raw[key]["no_show"], raw[key]["attended"] + raw[key]["no_show"], suppress=suppress,
                             threshold=threshold)  # fmt: skip
            elif name in NOT_PEOPLE:
                cell = Cell(value, _fmt(value))  # events, places offered, a target: nobody to single out
            else:
                cell = make_cell(value, suppress=suppress, threshold=threshold)
            items.append(Headline(name, str(label), cell))
        sections.append(Section(key, str(SECTION_TITLES[key]), items))
    return sections


def _headline_table(sections: list[Section]) -> StatTable:
    rows = [Row(f"{section.title} · {item.label}", [item.cell]) for section in sections for item in section.items]
    return StatTable("headline", _("主要数据"), [_("指标"), _("数值")], rows)


def _measure_rows(
    labelled: Sequence[tuple[str, list[int], int | None]], measures: list[str], suppress: bool, threshold: int
) -> list[Row]:
    rows = []
    for label, values, events in labelled:
        cells = []
        if events is not None:
            cells.append(Cell(events, _fmt(events)))  # events are not people: never suppressed
        for name in measures:
            cells.append(make_cell(values[MEASURES.index(name)], suppress=suppress, threshold=threshold))
        rows.append(Row(label, cells))
    if suppress:
        _suppress_rows(rows, threshold)
    return rows


def _header(first: str, measures: list[str], with_events: bool) -> list[str]:
    names = (["events"] if with_events else []) + measures
    return [first] + [str(MEASURE_LABELS[name]) for name in names]


def _city_table(
    by_city: dict[int, list[int]], events: dict[int, int], measures: list[str], suppress: bool, threshold: int
) -> StatTable:
    labelled = [
        (city.name, by_city.get(city.id, [0] * len(MEASURES)), events.get(city.id, 0))
        for city in db.session.scalars(select(City).order_by(City.sort_order))
    ]
    rows = _measure_rows(labelled, measures, suppress, threshold)
    return StatTable("city", _("按城市（活动举办地）"), _header(_("城市"), measures, True), rows, ["events", *measures])


def _month_table(
    filters: Filters,
    by_month: dict[tuple[int, int], list[int]],
    events: dict[tuple[int, int], int],
    measures: list[str],
    suppress: bool,
    threshold: int,
) -> StatTable:
    months: list[tuple[int, int]] = []
    year, month = filters.start.year, filters.start.month
    while (year, month) <= (filters.end.year, filters.end.month) and len(months) < 120:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    one_year = filters.start.year == filters.end.year
    labelled = [
        (_("%(m)d月", m=m) if one_year else f"{y}-{m:02d}", by_month.get((y, m), [0] * len(MEASURES)),
         events.get((y, m), 0))
        for y, m in months
    ]  # fmt: skip
    rows = _measure_rows(labelled, measures, suppress, threshold)
    return StatTable("month", _("按月份"), _header(_("月份"), measures, True), rows, ["events", *measures])


def dim_labels(dim: str) -> list[tuple[str, str]]:
    """(value, label) of a breakdown dimension in display order, the unknown bucket last."""
    if dim == DIM_GENDER:
        pairs = [("female", _("女")), ("male", _("男"))]
    elif dim == DIM_AGE:
        pairs = [(label, _("%(band)s 岁", band=label)) for label, _low, _high in AGE_BANDS]
    elif dim == DIM_ETYPE:
        pairs = [(etype.value, str(label)) for etype, label in ENTERPRISE_TYPE_LABELS.items()]
    else:
        pairs = []
        for industry in db.session.scalars(select(Industry).order_by(Industry.group, Industry.sort_order)):
            group = _("产业链") if industry.group == IndustryGroup.CHAIN else _("产业集群")
            pairs.append((industry.code, f"{group} · {industry.name}"))
        pairs.append((OTHER_INDUSTRY, _("其他")))
    return [*pairs, (UNKNOWN, _("未知（账户已注销）"))]


DIM_TITLES = {
    DIM_GENDER: _l("按性别"),
    DIM_AGE: _l("按年龄段"),
    DIM_ETYPE: _l("按单位类型"),
    DIM_INDUSTRY: _l("按产业链（集群）"),
}
DIM_FIRST = {
    DIM_GENDER: _l("性别"),
    DIM_AGE: _l("年龄段"),
    DIM_ETYPE: _l("单位类型"),
    DIM_INDUSTRY: _l("产业链（集群）"),
}


def _dim_table(
    dim: str, people: dict[str, dict[str, list[int]]], measures: list[str], suppress: bool, threshold: int
) -> StatTable:
    values = people.get(dim, {})
    labelled: list[tuple[str, list[int], int | None]] = [
        (label, values.get(value, [0] * len(MEASURES)), None)
        for value, label in dim_labels(dim)
        if value != UNKNOWN or value in values
    ]
    rows = _measure_rows(labelled, measures, suppress, threshold)
    return StatTable(dim, str(DIM_TITLES[dim]), _header(str(DIM_FIRST[dim]), measures, False), rows, measures)


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
