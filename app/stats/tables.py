"""The figures as cells and tables: formatting, small-count suppression, and the breakdown tables (by city, month,
gender, age band, enterprise type, industry) the dashboard shows and exports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..orgs.models import City, Industry, IndustryGroup
from ..orgs.reference import ENTERPRISE_TYPE_LABELS
from .models import DIM_AGE, DIM_ETYPE, DIM_GENDER, DIM_INDUSTRY
from .rollup import AGE_BANDS, MEASURES, OTHER_INDUSTRY, UNKNOWN

MEASURE_LABELS = {
    "events": _l("场次"),
    "signups": _l("报名人次"),
    "allocated": _l("获得名额"),
    "attended": _l("到场人次"),
    "no_show": _l("未到场"),
    "converted": _l("候补转正"),
    "two_cancer": _l("两癌筛查"),
}


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


# --- suppression -------------------------------------------------------------------------------------------------


def fmt(value: int | float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}%"
    return f"{value:,}"


def make_cell(value: int | float | None, *, suppress: bool, threshold: int) -> Cell:
    """A count under the threshold (but not zero) shows as "<threshold" when suppression applies."""
    if suppress and isinstance(value, int) and 0 < value < threshold:
        return Cell(None, f"<{threshold}", True)
    return Cell(value, fmt(value))


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


def rate(numerator: int, denominator: int, *, suppress: bool, threshold: int) -> Cell:
    """A percentage; none when the denominator is zero, or under the threshold when suppression applies."""
    if denominator == 0 or (suppress and denominator < threshold):
        return Cell(None, "—")
    return Cell(round(100.0 * numerator / denominator, 1), fmt(round(100.0 * numerator / denominator, 1)))


# --- tables ------------------------------------------------------------------------------------------------------


def headline_table(sections: list[Section]) -> StatTable:
    """Every headline figure, section by section, as one two-column table (for the export)."""
    rows = [Row(f"{section.title} · {item.label}", [item.cell]) for section in sections for item in section.items]
    return StatTable("headline", _("主要数据"), [_("指标"), _("数值")], rows)


def _measure_rows(
    labelled: Sequence[tuple[str, list[int], int | None]], measures: list[str], suppress: bool, threshold: int
) -> list[Row]:
    rows = []
    for label, values, events in labelled:
        cells = []
        if events is not None:
            cells.append(Cell(events, fmt(events)))  # events are not people: never suppressed
        for name in measures:
            cells.append(make_cell(values[MEASURES.index(name)], suppress=suppress, threshold=threshold))
        rows.append(Row(label, cells))
    if suppress:
        _suppress_rows(rows, threshold)
    return rows


def _header(first: str, measures: list[str], with_events: bool) -> list[str]:
    names = (["events"] if with_events else []) + measures
    return [first] + [str(MEASURE_LABELS[name]) for name in names]


def city_table(
    by_city: dict[int, list[int]], events: dict[int, int], measures: list[str], suppress: bool, threshold: int
) -> StatTable:
    """The measures per city where the events took place, every city listed."""
    labelled = [
        (city.name, by_city.get(city.id, [0] * len(MEASURES)), events.get(city.id, 0))
        for city in db.session.scalars(select(City).order_by(City.sort_order))
    ]
    rows = _measure_rows(labelled, measures, suppress, threshold)
    return StatTable("city", _("按城市（活动举办地）"), _header(_("城市"), measures, True), rows, ["events", *measures])


def month_table(
    start: date,
    end: date,
    by_month: dict[tuple[int, int], list[int]],
    events: dict[tuple[int, int], int],
    measures: list[str],
    suppress: bool,
    threshold: int,
) -> StatTable:
    """The measures per month of the period (at most ten years of months)."""
    months: list[tuple[int, int]] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month) and len(months) < 120:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    one_year = start.year == end.year
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


def dim_table(
    dim: str, people: dict[str, dict[str, list[int]]], measures: list[str], suppress: bool, threshold: int
) -> StatTable:
    """The measures per value of a person dimension; the unknown bucket only when it holds anything."""
    values = people.get(dim, {})
    labelled: list[tuple[str, list[int], int | None]] = [
        (label, values.get(value, [0] * len(MEASURES)), None)
        for value, label in dim_labels(dim)
        if value != UNKNOWN or value in values
    ]
    rows = _measure_rows(labelled, measures, suppress, threshold)
    return StatTable(dim, str(DIM_TITLES[dim]), _header(str(DIM_FIRST[dim]), measures, False), rows, measures)
