"""One vocabulary for where a person's registration stands (issue 21, item 4).

The same words on 我的预约, the event page, the ticket, the trip panel and the API, in both languages: a
lottery application is "等待抽签" everywhere, an application an organizer must approve "待审核" everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from .models import Allocation

if TYPE_CHECKING:
    from ..booking.models import Registration

# An application to a lottery waits for the draw, not for anybody's approval.
AWAITING_DRAW = "awaiting_draw"
AWAITING_DRAW_LABEL = _l("等待抽签")


def registration_state(registration: Registration) -> str:
    """The state code a page shows for ``registration``: its status, except that a pending application to a
    lottery slot is ``awaiting_draw``."""
    status = str(registration.status.value)
    if status == "pending_approval" and registration.slot.allocation == Allocation.LOTTERY:
        return AWAITING_DRAW
    return status


def registration_label(registration: Registration) -> str:
    """The words for ``registration``'s state (see ``registration_state``)."""
    state = registration_state(registration)
    if state == AWAITING_DRAW:
        return str(AWAITING_DRAW_LABEL)
    from ..booking.labels import status_label  # the engine's words for its own states

    return status_label(state)
