"""Statistics pages: the dashboard for organizers and admins, its CSV exports, and the public summary."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import clock
from ..errors import InvalidInput
from ..replica import reads_replica
from ..spreadsheets import neutralise
from ..webviews import me
from . import charts, services
from .forms import StatsFilterForm

bp = Blueprint("stats", __name__, url_prefix="/stats")


def _require_staff() -> None:
    if not (current_user.is_authenticated and current_user.is_organizer):
        abort(404)


def _figures() -> tuple[StatsFilterForm, services.Figures]:
    form = StatsFilterForm(request.args)
    if not form.validate():
        labels = "、".join(str(getattr(form, name).label.text) for name in form.errors)
        flash(_("筛选条件不正确（%(fields)s），已显示本年度的数据。", fields=labels), "error")
        form = StatsFilterForm(formdata=None)
        return form, services.dashboard(me())
    try:
        return form, services.dashboard(me(), **form.query())
    except InvalidInput as error:
        flash(error.message, "error")
        return form, services.dashboard(me())


def _charts(figures: services.Figures) -> dict[str, Any]:
    city = figures.tables["city"]
    attended_index = city.measures.index("attended")  # cells follow the row label: cell i is measures[i]
    bars = [
        charts.Point(row.label, int(row.cells[attended_index].value or 0), row.cells[attended_index].text)
        for row in city.rows
    ]
    month = figures.tables["month"]
    signups_index = month.measures.index("signups")
    labels = [row.label.removesuffix("月") for row in month.rows]
    series = [
        (_("报名人次"), [int(row.cells[signups_index].value or 0) for row in month.rows]),
        (_("到场人次"), [int(row.cells[attended_index].value or 0) for row in month.rows]),
    ]
    return {
        "city": charts.bar_chart("chart-city", _("各城市到场人次"), bars),
        "month": charts.line_chart("chart-month", _("每月报名与到场人次"), labels, series),
    }


@bp.get("/")
@login_required
@reads_replica
def dashboard() -> str:
    _require_staff()
    form, figures = _figures()
    return render_template(
        "stats/dashboard.html",
        form=form,
        figures=figures,
        charts=_charts(figures),
        orgs=services.org_choices(me()),
        years=range(clock.today().year, 2019, -1),
        kind_label=services.kind_labels().get(figures.filters.kind or ""),
        export_args={k: v for k, v in request.args.items() if k in ("year", "org", "kind", "start", "end")},
    )


@bp.get("/export/<table>.csv")
@login_required
@reads_replica
def export(table: str) -> Response:
    _require_staff()
    if table not in services.TABLE_KEYS:
        abort(404)
    _form, figures = _figures()
    stat = figures.tables[table]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    scope = figures.filters
    writer.writerow(
        [neutralise(_("范围")), neutralise(scope.org.name), f"{scope.start.isoformat()}~{scope.end.isoformat()}"]
    )
    writer.writerow([neutralise(h) for h in stat.header])
    for row in stat.rows:
        writer.writerow([neutralise(row.label), *(neutralise(cell.text.replace(",", "")) for cell in row.cells)])
    if figures.suppressed:
        writer.writerow([neutralise(_("注：小于 %(n)d 的数字已隐去。", n=figures.threshold))])
    filename = f"zhijia-stats-{table}-{figures.filters.start.isoformat()}-{figures.filters.end.isoformat()}.csv"
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.get("/public")
@reads_replica
def public() -> str:
    year = request.args.get("year", type=int)
    if year is not None and not 2000 <= year <= 2100:
        year = None
    figures = services.public_figures(year)
    return render_template("stats/public.html", figures=figures)
