"""Random sequences of book / cancel / accept / decline / expire / approve / reject / promote keep the invariant:
holding seats = the slot's counter ≤ capacity, per gender ≤ quota, one active registration per person."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from app import clock
from app.accounts.models import Gender
from app.booking import approval as booking_approval
from app.booking import offers as booking_offers
from app.booking import services as booking
from app.booking.models import ACTIVE, HOLDING, Registration, Status
from app.errors import DomainError
from app.events.models import Allocation, Slot, WaitlistPolicy
from app.extensions import db

from .. import factories
from ..moment import suite_moment


class BookingMachine(RuleBasedStateMachine):
    @initialize(
        capacity=st.integers(min_value=0, max_value=4),
        quotas=st.booleans(),
        waitlist=st.sampled_from(list(WaitlistPolicy)),
        approval=st.booleans(),
    )
    def setup(self, capacity, quotas, waitlist, approval):
        clock.set_now(suite_moment())
        self.start = clock.now()
        event = factories.make_event(
            capacity=capacity,
            quota_female=capacity // 2 if quotas else None,
            quota_male=capacity - capacity // 2 if quotas else None,
            waitlist=waitlist,
            allocation=Allocation.APPROVAL if approval else Allocation.FIRST_COME,
        )
        self.slot_id = event.slots[0].id
        self.people = [factories.make_employee(gender=Gender.FEMALE if i % 2 else Gender.MALE) for i in range(6)]
        self.organizer = factories.make_organizer()

    def _registrations(self):
        return db.session.scalars(select(Registration).where(Registration.slot_id == self.slot_id)).all()

    def _attempt(self, action):
        try:
            action()
            db.session.commit()
        except DomainError:
            db.session.rollback()

    @rule(who=st.integers(min_value=0, max_value=5))
    def book(self, who):
        self._attempt(lambda: booking.book(self.people[who], self.slot_id))

    @rule(index=st.integers(min_value=0, max_value=20))
    def cancel(self, index):
        regs = self._registrations()
        if regs:
            reg = regs[index % len(regs)]
            self._attempt(lambda: booking.cancel(reg, actor=reg.user, by_organizer=True))

    @rule(index=st.integers(min_value=0, max_value=20), accept=st.booleans())
    def answer_offer(self, index, accept):
        offered = [r for r in self._registrations() if r.status == Status.OFFERED]
        if offered:
            reg = offered[index % len(offered)]
            action = booking_offers.accept_offer if accept else booking_offers.decline_offer
            self._attempt(lambda: action(reg, actor=reg.user))

    @rule(hours=st.integers(min_value=1, max_value=30))
    def time_passes_and_offers_expire(self, hours):
        clock.set_now(clock.now() + timedelta(hours=hours))
        self._attempt(lambda: booking_offers.expire_offers())

    @rule(index=st.integers(min_value=0, max_value=20), approve=st.booleans())
    def organizer_decides(self, index, approve):
        pending = [r for r in self._registrations() if r.status in (Status.PENDING, Status.WAITLISTED)]
        if pending:
            reg = pending[index % len(pending)]
            if approve and reg.status == Status.PENDING:
                self._attempt(lambda: booking_approval.approve(reg, actor=self.organizer))
            elif approve:
                self._attempt(lambda: booking_approval.promote(reg, actor=self.organizer))
            else:
                self._attempt(lambda: booking_approval.reject(reg, actor=self.organizer, reason="测试"))

    @invariant()
    def capacity_and_uniqueness_hold(self):
        if not hasattr(self, "slot_id"):
            return
        db.session.expire_all()
        slot = db.session.get(Slot, self.slot_id)
        regs = self._registrations()
        holding = [r for r in regs if r.status in HOLDING]
        assert len(holding) == slot.taken <= slot.capacity
        by_gender = Counter(r.gender for r in holding)
        assert by_gender[Gender.FEMALE] == slot.taken_female
        assert by_gender[Gender.MALE] == slot.taken_male
        if slot.quota_female is not None:
            assert by_gender[Gender.FEMALE] <= slot.quota_female
            assert by_gender[Gender.MALE] <= slot.quota_male
        active = Counter(r.user_id for r in regs if r.status in ACTIVE)
        assert all(count == 1 for count in active.values())
        assert all(r.is_active == (r.status in ACTIVE) for r in regs)
        # A free seat never sits idle while someone of a fitting gender waits (waitlist with a policy).
        if slot.waitlist_policy != WaitlistPolicy.NONE:
            waiting = [r for r in regs if r.status == Status.WAITLISTED]
            assert not any(slot.available_for(r.gender) > 0 for r in waiting)

    def teardown(self):
        clock.set_now(suite_moment())


BookingMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.usefixtures("db")
class TestBookingStateMachine(BookingMachine.TestCase):
    pass
