"""The engine's words for its own states, in the user's language: one label per registration status, used by
pages, exports and a person's data download alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import Status

STATUS_LABELS = {
    Status.PENDING: _l("待审核"),
    Status.CONFIRMED: _l("已确认"),
    Status.WAITLISTED: _l("候补中"),
    Status.OFFERED: _l("候补递补待确认"),
    Status.CANCELLED: _l("已取消"),
    Status.REJECTED: _l("未通过"),
    Status.EXPIRED: _l("已过期"),
    Status.ATTENDED: _l("已签到"),
    Status.NO_SHOW: _l("未到场"),
}


def status_label(status: Status | str) -> str:
    """The label of a registration status (given as the enum or its stored value)."""
    return str(STATUS_LABELS[Status(status)])
