"""The one answer to "where does this event (or slot) stand now?" (issue 21, item 1).

Every list, card, event page and API answer asks ``slot_state`` / ``event_state`` instead of reading seats or
windows itself, so no page can call a closed or running event "open". The labels are the one vocabulary of
event states, the same on every page and in both languages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from .. import clock
from ..accounts.models import Gender
from .models import Allocation, Event, Slot, WaitlistPolicy


class State(enum.StrEnum):
    UPCOMING = "upcoming"  # sign-up not open yet
    OPEN = "open"  # sign-up open, a seat (or an application) is possible
    WAITLIST = "waitlist"  # sign-up open, full, the waitlist takes people
    FULL = "full"  # sign-up open, full, no waitlist
    CLOSED = "closed"  # sign-up over (or closed by the organizer), not started yet
    RUNNING = "running"  # started, not ended
    ENDED = "ended"
    CANCELLED = "cancelled"


STATE_LABELS = {
    State.UPCOMING: _l("即将开放"),
    State.OPEN: _l("报名中"),
    State.WAITLIST: _l("已满可候补"),
    State.FULL: _l("已满"),
    State.CLOSED: _l("报名已截止"),
    State.RUNNING: _l("进行中"),
    State.ENDED: _l("已结束"),
    State.CANCELLED: _l("已取消"),
}

# States in which a person may still send a booking or an application.
BOOKABLE = frozenset({State.OPEN, State.WAITLIST})
# The order in which lists show events: what one can book first, then what opens soon, then the rest.
_LIST_RANK = {
    State.OPEN: 0,
    State.WAITLIST: 1,
    State.UPCOMING: 2,
    State.FULL: 3,
    State.CLOSED: 4,
    State.RUNNING: 5,
    State.ENDED: 6,
    State.CANCELLED: 7,
}


@dataclass(frozen=True)
class Standing:
    """A state with what a page prints beside it: seats left (open first-come slots) and when sign-up opens
    or closes."""

    state: State
    seats_left: int | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def bookable(self) -> bool:
        return self.state in BOOKABLE

    @property
    def rank(self) -> int:
        return _LIST_RANK[self.state]


def _waitlist_takes_people(slot: Slot) -> bool:
    if slot.waitlist_policy == WaitlistPolicy.NONE:
        return False
    return slot.max_waitlist is None or slot.waitlisted < slot.max_waitlist


def slot_state(slot: Slot, now: datetime | None = None, gender: Gender | None = None) -> Standing:
    """Where ``slot`` stands at ``now``: cancelled (its event is), ended, running, closed by the organizer or
    past its sign-up window, not open yet, or open — with a seat for a person of ``gender`` (any gender when
    None), only the waitlist, or full. Lottery and approval slots are open for applications whatever their
    seats, since an application takes no seat."""
    now = now or clock.now()
    event = slot.event
    opens, closes = slot.window()
    if event.is_cancelled:
        return Standing(State.CANCELLED)
    if now >= slot.ends_at:
        return Standing(State.ENDED)
    if now >= slot.starts_at:
        return Standing(State.RUNNING)
    if slot.closed or now >= closes:
        return Standing(State.CLOSED, closes_at=closes)
    if now < opens:
        return Standing(State.UPCOMING, opens_at=opens, closes_at=closes)
    if slot.allocation in (Allocation.LOTTERY, Allocation.APPROVAL):
        return Standing(State.OPEN, closes_at=closes)
    room = slot.available_for(gender) if gender is not None else slot.available
    if room > 0:
        return Standing(State.OPEN, seats_left=room, closes_at=closes)
    if _waitlist_takes_people(slot):
        return Standing(State.WAITLIST, closes_at=closes)
    return Standing(State.FULL, closes_at=closes)


def event_state(event: Event, now: datetime | None = None, gender: Gender | None = None) -> Standing:
    """Where ``event`` stands at ``now``: cancelled, ended, running (between its start and end), else the best
    state among its slots (open before waitlist before upcoming before full before closed), with the seats left
    summed over its open slots."""
    now = now or clock.now()
    if event.is_cancelled:
        return Standing(State.CANCELLED)
    if now >= event.ends_at:
        return Standing(State.ENDED)
    if now >= event.starts_at:
        return Standing(State.RUNNING)
    standings = [slot_state(slot, now, gender) for slot in event.slots]
    if not standings:
        return Standing(State.CLOSED)
    best = min(standings, key=lambda s: s.rank)
    if best.state == State.OPEN and best.seats_left is not None:
        seats = sum(s.seats_left or 0 for s in standings if s.state == State.OPEN)
        return Standing(State.OPEN, seats_left=seats, closes_at=best.closes_at)
    if best.state == State.UPCOMING:
        opens = min(s.opens_at for s in standings if s.opens_at is not None)
        return Standing(State.UPCOMING, opens_at=opens, closes_at=best.closes_at)
    return best


def state_label(state: State | str) -> str:
    return str(STATE_LABELS[State(state)])
