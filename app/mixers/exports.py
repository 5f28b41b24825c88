"""Mixer sub-domain: the mixer roster's CSV rows (name, gender, status, badge; nothing about picks or pairs).

It stays in this feature rather than in the organizer's exports: its badge column is mixer data, the organizer
package may import nothing from mixers, no kind-policy hook lets a kind add roster columns, and the page that
serves it is this feature's (``/organizer/mixers/<id>/roster.csv``), which may not import the organizer package.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..accounts.models import Gender, User
from ..booking.models import Registration, Status
from ..extensions import db
from ..spreadsheets import neutralise
from .models import MixerAttendee
from .windows import get_managed_mixer


def roster_rows(actor: User, event_id: int) -> list[list[str]]:
    """The roster export: name, gender, status, badge. It carries nothing about picks or pairs; every cell goes
    through the spreadsheet formula guard (``app.spreadsheets``). The export is audited (``roster.export``, the
    row count)."""
    event = get_managed_mixer(actor, event_id)
    badges = {
        user_id: badge
        for user_id, badge in db.session.execute(
            select(MixerAttendee.user_id, MixerAttendee.badge_no).where(MixerAttendee.event_id == event.id)
        )
    }
    gender_names = {Gender.FEMALE: _("女"), Gender.MALE: _("男")}
    status_names = {
        Status.PENDING: _("待审核"),
        Status.CONFIRMED: _("已确认"),
        Status.WAITLISTED: _("候补中"),
        Status.OFFERED: _("候补递补待确认"),
        Status.CANCELLED: _("已取消"),
        Status.REJECTED: _("未通过"),
        Status.EXPIRED: _("已过期"),
        Status.ATTENDED: _("已签到"),
        Status.NO_SHOW: _("未到场"),
    }
    rows = [[neutralise(header) for header in (_("姓名"), _("性别"), _("状态"), _("胸牌号"))]]
    for registration in db.session.scalars(
        select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
    ).unique():
        user = registration.user
        cells = [
            user.name if user else _("（已注销）"),
            gender_names.get(registration.gender, "") if registration.gender else "",
            status_names.get(registration.status, registration.status.value),
            str(badges.get(registration.user_id, "")) if registration.user_id in badges else "",
        ]
        rows.append([neutralise(cell) for cell in cells])
    audit.record(
        actor,
        "roster.export",
        "event",
        event.id,
        {"format": "mixer_csv", "rows": len(rows) - 1},
        org=event.organization,
    )
    return rows
