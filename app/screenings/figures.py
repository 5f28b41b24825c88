"""The screenings' statistics: what a health-truck visit adds to the province's figures (places offered, the
two-cancer screenings from its booking rows), given to the statistics through the kind registry
(``ScreeningPolicy.figures``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from ..booking.models import Registration
from ..events.figures import KindFigures, RegistrationCount, Tally, Value
from ..extensions import db
from ..orgs.models import EnterpriseType
from .models import Outcome, ScreeningBooking

# A two-cancer screening: an attended booking with the package chosen, not recorded "not screened".
TWO_CANCER = RegistrationCount(
    measure="two_cancer",
    table=ScreeningBooking.__table__,
    registration_id=ScreeningBooking.registration_id,
    counts=and_(ScreeningBooking.two_cancer, ScreeningBooking.outcome.is_distinct_from(Outcome.NOT_SCREENED.value)),
)


class ScreeningFigures(KindFigures):
    position = 20
    label = _l("健康体检")
    title = _l("健康大篷车")
    always_shown = True
    headlines: ClassVar[dict[str, Any]] = {
        "visits": _l("进园区场次"),
        "slots_offered": _l("提供名额"),
        "booked": _l("预约人次"),
        "attended": _l("体检人次"),
        "people": _l("体检人数（去重）"),
        "two_cancer": _l("两癌筛查（人）"),
        "two_cancer_non_public": _l("其中非公企业女职工"),
        "two_cancer_new_employment": _l("其中新就业形态女性劳动者"),
    }
    not_people = frozenset({"visits", "slots_offered"})
    registration_counts = (TWO_CANCER,)

    def figures(self, tally: Tally) -> dict[str, Value]:
        """One truck visit per screening event; booked are the places allocated; the two-cancer screenings are
        also split by the person's enterprise type (non-public enterprises, new forms of employment)."""
        by_type = tally.by_enterprise_type(TWO_CANCER.measure)
        return {
            "visits": tally.events(),
            "slots_offered": tally.slots_offered(),
            "booked": tally.measure("allocated"),
            "attended": tally.measure("attended"),
            "people": tally.people(),
            "two_cancer": tally.measure(TWO_CANCER.measure),
            "two_cancer_non_public": by_type.get(EnterpriseType.NON_PUBLIC.value, 0),
            "two_cancer_new_employment": by_type.get(EnterpriseType.NEW_EMPLOYMENT.value, 0),
        }

    def changed_events(self, since: datetime) -> set[int]:
        """Recording whether someone was screened changes no registration: the visits with outcomes recorded
        since ``since``."""
        return set(
            db.session.scalars(
                select(Registration.event_id)
                .join(ScreeningBooking, ScreeningBooking.registration_id == Registration.id)
                .where(ScreeningBooking.recorded_at >= since)
                .distinct()
            )
        )
