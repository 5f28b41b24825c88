"""The trips' statistics: what a departure adds to the province's figures (the yearly places target and its
progress, from the trips' own targets), given to the statistics through the kind registry
(``TripPolicy.figures``)."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..events.figures import KindFigures, Tally, Value
from ..extensions import db
from ..orgs.reference import PROVINCE_ORG_CODE
from .models import TripTarget


class TripFigures(KindFigures):
    position = 30
    label = _l("疗休养")
    title = _l("职工疗休养")
    always_shown = True
    headlines: ClassVar[dict[str, Any]] = {
        "departures": _l("团期数"),
        "applicants": _l("申请人次"),
        "allocated": _l("安排名额"),
        "attended": _l("成行人次"),
        "people": _l("成行人数（去重）"),
        "target": _l("年度目标名额"),
        "progress": _l("目标完成率"),
    }
    not_people = frozenset({"departures", "target", "progress"})

    def figures(self, tally: Tally) -> dict[str, Value]:
        """Applicants are the sign-ups; progress is the places allocated as a share of the year's target."""
        target = trip_target(tally)
        allocated = tally.measure("allocated")
        return {
            "departures": tally.events(),
            "applicants": tally.measure("signups"),
            "allocated": allocated,
            "attended": tally.measure("attended"),
            "people": tally.people(),
            "target": target,
            "progress": round(100.0 * allocated / target, 1) if target else None,
        }


def trip_target(tally: Tally) -> int | None:
    """The places target of the counted organization for the year: its ``trip_targets`` row, else the
    configured province target when it is the province. Only for a period inside one year."""
    if tally.start.year != tally.end.year:
        return None
    found = db.session.scalar(
        select(TripTarget.places).where(
            TripTarget.year == tally.start.year, TripTarget.organization_id == tally.organization.id
        )
    )
    if found is not None:
        return int(found)
    if tally.organization.code == PROVINCE_ORG_CODE:
        return int(current_app.config.get("TRIP_YEARLY_TARGET", 10000))
    return None
