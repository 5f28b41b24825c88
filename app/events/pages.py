"""What the event page shows one viewer: each slot's state and the one action that applies now (issue 21,
items 1, 3 and 5).

The page never offers a button that the engine would refuse: a person who already holds a registration for the
event sees it with what they can do about it (查看票券 · 换时段 · 取消), not "立即预约"; a closed slot says so
to everyone, signed in or not; where no action applies, the page says why and whom to ask.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..accounts.consents import PURPOSES, ConsentPurpose
from ..accounts.models import Gender, User
from ..accounts.services import has_consent
from ..booking.models import ACTIVE, Registration, Status
from ..booking.queries import waitlist_counts
from ..booking.services import eligibility_reasons
from ..extensions import db
from .kinds import policy_for
from .models import Allocation, Event, Slot
from .status import Standing, State, event_state, slot_state
from .vocabulary import registration_label, registration_state


class Action(enum.StrEnum):
    LOGIN = "login"  # anonymous visitor, the slot takes bookings: log in first
    BOOK = "book"  # a seat now
    APPLY = "apply"  # an application to a lottery or to an organizer's approval
    WAITLIST = "waitlist"  # full, the waitlist takes people
    NONE = "none"  # nothing to do here: ``why`` says why


@dataclass
class SlotOffer:
    slot: Slot
    standing: Standing
    waitlisted: int
    action: Action
    button: str = ""
    why: str = ""
    mine: bool = False  # the viewer's registration is in this slot


@dataclass
class MyRegistration:
    """The viewer's live registration for the event and what they may do with it now."""

    registration: Registration
    state: str
    label: str
    ticket: bool  # a ticket with a QR exists (the person holds or is offered a seat)
    can_cancel: bool
    cancel_why: str = ""


@dataclass
class EventPage:
    event: Event
    standing: Standing
    slots: list[SlotOffer]
    mine: list[MyRegistration]
    reasons: list[str]
    consents_needed: list[ConsentPurpose]
    consents_standing: list[ConsentPurpose]
    contact: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def any_action(self) -> bool:
        return any(offer.action != Action.NONE for offer in self.slots)


def _button(slot: Slot, standing: Standing) -> tuple[Action, str]:
    if slot.allocation == Allocation.LOTTERY:
        return Action.APPLY, _("申请（报名截止后抽签）")
    if slot.allocation == Allocation.APPROVAL:
        return Action.APPLY, _("提交报名（需审核）")
    if standing.state == State.WAITLIST:
        return Action.WAITLIST, _("加入候补")
    return Action.BOOK, _("立即预约")


def _closed_why(standing: Standing) -> str:
    state = standing.state
    if state == State.UPCOMING and standing.opens_at is not None:
        return _("报名将于 %(t)s 开始。", t=standing.opens_at.strftime("%Y-%m-%d %H:%M"))
    if state == State.CLOSED:
        return _("报名已截止。")
    if state == State.FULL:
        return _("名额已满，本场次不设候补。")
    if state == State.RUNNING:
        return _("活动进行中，不再接受报名。")
    if state == State.ENDED:
        return _("活动已结束。")
    if state == State.CANCELLED:
        return _("该活动已取消。")
    return ""


def cancel_rule(registration: Registration, now: datetime) -> tuple[bool, str]:
    """Whether the person may cancel ``registration`` themselves now, else why not — the booking engine's rule
    (``booking.services.cancel``): a live registration, not checked in, before the event starts, and a held
    seat only until the event's cancellation deadline."""
    event = registration.slot.event
    if registration.status not in ACTIVE or registration.status in (Status.ATTENDED, Status.NO_SHOW):
        return False, ""
    if event.starts_at <= now:
        return False, _("活动已开始，不能再取消。")
    deadline = event.cancel_deadline
    if registration.holds_seat and deadline is not None and now > deadline:
        return False, _(
            "已过取消截止时间（%(t)s），如需取消请联系%(org)s。",
            t=deadline.strftime("%Y-%m-%d %H:%M"),
            org=event.organization.name,
        )
    return True, ""


def my_registration(registration: Registration, now: datetime) -> MyRegistration:
    """A person's registration with its state words and the actions that apply now."""
    can_cancel, why = cancel_rule(registration, now)
    return MyRegistration(
        registration=registration,
        state=registration_state(registration),
        label=registration_label(registration),
        ticket=registration.status in (Status.CONFIRMED, Status.ATTENDED, Status.OFFERED),
        can_cancel=can_cancel,
        cancel_why=why,
    )


def standing_consents(user: User, purposes: tuple[str, ...]) -> list[str]:
    """The purposes among ``purposes`` the person has a live consent to (current notice version): a booking form
    sends them for the person instead of asking again (issue 21, item 5)."""
    return [purpose for purpose in purposes if has_consent(user.id, purpose)]


def event_page(event: Event, user: User | None) -> EventPage:
    """Everything the event page shows ``user`` (None: an anonymous visitor): the event's and each slot's
    state, the person's live registrations with their actions, why they may not book, which consents the
    booking form must ask for and which already stand — and, per slot, the single action that works now."""
    now = clock.now()
    signed_in = user is not None
    gender: Gender | None = user.profile.gender if user is not None and user.profile is not None else None
    policy = policy_for(event.kind)
    mine_rows: list[Registration] = []
    reasons: list[str] = []
    if user is not None:
        reasons = eligibility_reasons(user, event)
        mine_rows = list(
            db.session.scalars(
                select(Registration)
                .where(
                    Registration.user_id == user.id, Registration.event_id == event.id, Registration.is_active.is_(True)
                )
                .order_by(Registration.id)
            )
        )
    held_slots = {r.slot_id for r in mine_rows}
    # One registration per event unless the event allows several: once someone holds one, no slot offers a booking.
    blocked = bool(mine_rows) and not event.allow_multiple_slots
    counts = waitlist_counts([slot.id for slot in event.slots])
    offers: list[SlotOffer] = []
    for slot in event.slots:
        standing = slot_state(slot, now, gender)
        offer = SlotOffer(slot, standing, counts.get(slot.id, 0), Action.NONE, mine=slot.id in held_slots)
        if offer.mine:
            offer.why = _("您已报名此场次。")
        elif not standing.bookable:
            offer.why = _closed_why(standing)
        elif not signed_in:
            offer.action, offer.button = Action.LOGIN, _("登录后报名")
        elif blocked:
            offer.why = _("您已报名本活动的其他场次。")
        elif reasons:
            offer.why = _("您暂不符合报名条件，原因见上方。")
        else:
            offer.action, offer.button = _button(slot, standing)
        offers.append(offer)
    required = policy.required_consents(event)
    granted = set(standing_consents(user, required)) if user is not None else set()
    return EventPage(
        event=event,
        standing=event_state(event, now, gender),
        slots=offers,
        mine=[my_registration(r, now) for r in mine_rows],
        reasons=reasons,
        consents_needed=[PURPOSES[p] for p in required if p not in granted],
        consents_standing=[PURPOSES[p] for p in required if p in granted],
        contact=event.organization.name,
    )
