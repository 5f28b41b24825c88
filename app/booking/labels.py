"""The engine's words for its own states and changes, in the user's language: one label per registration status
(pages, exports and a person's data download alike) and one per cause of a change (a registration's history)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from .models import Cause, RegistrationHistory, Status

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


# In the "history" translation context: what happened, not the button that does it (取消报名 "Cancelled").
CAUSE_LABELS = {
    Cause.BOOKED: lazy_pgettext("history", "本人报名"),
    Cause.APPROVED: lazy_pgettext("history", "审核通过"),
    Cause.REJECTED: lazy_pgettext("history", "审核未通过"),
    Cause.LOTTERY: lazy_pgettext("history", "抽签结果"),
    Cause.WITHDRAWN: lazy_pgettext("history", "按疗休养规则撤回"),
    Cause.SEAT_FREED: lazy_pgettext("history", "名额空出，按候补顺序递补"),
    Cause.PROMOTED: lazy_pgettext("history", "组织者提前递补"),
    Cause.OFFER_ACCEPTED: lazy_pgettext("history", "接受递补名额"),
    Cause.OFFER_DECLINED: lazy_pgettext("history", "放弃递补名额"),
    Cause.OFFER_EXPIRED: lazy_pgettext("history", "递补名额逾期未确认"),
    Cause.CANCELLED: lazy_pgettext("history", "取消报名"),
    Cause.CONSENT_WITHDRAWN: lazy_pgettext("history", "撤回授权同意"),
    Cause.CHECKED_IN: lazy_pgettext("history", "签到"),
    Cause.CHECK_IN_UNDONE: lazy_pgettext("history", "撤销签到"),
    Cause.NO_SHOW: lazy_pgettext("history", "标记未到场"),
    Cause.MOVED: lazy_pgettext("history", "调整场次"),
    Cause.MANUAL: lazy_pgettext("history", "组织者调整"),
}

# Causes whose reason an organizer typed for people to read (a rejection, a cancellation, a manual change); every
# other reason is the engine's own note, which the cause's label already says in the reader's language.
_REASON_TYPED_BY_STAFF = frozenset({Cause.REJECTED, Cause.CANCELLED, Cause.MANUAL})


@dataclass(frozen=True)
class HistoryLine:
    cause: str | None  # the change's cause in the reader's language (None on rows older than causes)
    note: str  # the organizer's own words, if any


def history_line(entry: RegistrationHistory, person_id: int | None) -> HistoryLine:
    """How one history row reads to an organizer: the cause's label, and the reason only where a member of staff
    (not the person ``person_id`` themselves, not the system) wrote it; rows from before causes were recorded
    show their reason as it is."""
    if entry.cause is None:
        return HistoryLine(None, entry.reason)
    by_staff = entry.actor_id is not None and entry.actor_id != person_id
    typed = by_staff and entry.cause in _REASON_TYPED_BY_STAFF and entry.reason not in ("", entry.cause.value)
    return HistoryLine(str(CAUSE_LABELS[entry.cause]), entry.reason if typed else "")
