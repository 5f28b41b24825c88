"""Paper cards, the append-only matching-outcome log, sign-up consent and gender quotas."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.accounts import services as accounts
from app.accounts.consents import MIXER_SIGNUP
from app.accounts.models import Consent
from app.accounts.services import ConsentRequired
from app.booking import queries as booking_queries
from app.booking import services as booking
from app.booking.errors import NotEligible
from app.booking.models import Status
from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.mixers import checkin, errors, outcomes, presenters, reveal
from app.mixers.models import MixerOutcome, MixerPair, MixerReveal, OutcomeKind, PairSource
from app.outbox.models import OutboxMessage

from .. import factories
from . import factories as mf


@pytest.fixture
def org_user():
    return factories.make_organizer()


def _couple(org_user, event=None):
    event = event or mf.make_mixer()
    w, m = factories.make_employee(gender="female"), factories.make_employee(gender="male")
    a = mf.attend(org_user, event, w, nickname="小鹿")
    b = mf.attend(org_user, event, m, nickname="阿杰")
    return event, (w, a), (m, b)


def _revealed_pair(org_user):
    event, (w, a), (m, b) = _couple(org_user)
    mf.open_window(event)
    mf.pick(w, event, b.badge_no)
    mf.pick(m, event, a.badge_no)
    mf.after_window(event)
    reveal.reveal(event.id, clock.now())
    db.session.commit()
    pair = db.session.scalars(select(MixerPair)).one()
    return pair, w, m


def _kinds(pair):
    return [
        o.kind
        for o in db.session.scalars(
            select(MixerOutcome).where(MixerOutcome.pair_id == pair.id).order_by(MixerOutcome.id)
        )
    ]


# --- paper cards ---------------------------------------------------------------------------------------------


def test_paper_pair_entered_by_badges(org_user):
    event, (w, a), (m, b) = _couple(org_user)
    pair = reveal.add_paper_pair(org_user, event.id, b.badge_no, a.badge_no)
    db.session.commit()
    assert pair.source == PairSource.PAPER and (pair.badge_a, pair.badge_b) == (1, 2)
    assert {pair.user_a_id, pair.user_b_id} == {w.id, m.id}
    assert _kinds(pair) == [OutcomeKind.MATCHED]
    notified = db.session.scalars(select(OutboxMessage.user_id).where(OutboxMessage.kind == "mixer_match")).all()
    assert sorted(notified) == sorted([w.id, m.id])
    assert [match.partner_name for match in presenters.my_matches(w)] == ["阿杰"]


def test_paper_pair_duplicates_and_bad_badges_refused(org_user):
    event, (_w, a), (_m, b) = _couple(org_user)
    other_event, _x, (_m2, c_elsewhere) = _couple(org_user)
    reveal.add_paper_pair(org_user, event.id, a.badge_no, b.badge_no)
    db.session.commit()
    with pytest.raises(errors.DuplicatePair):
        reveal.add_paper_pair(org_user, event.id, b.badge_no, a.badge_no)
    db.session.rollback()
    with pytest.raises(InvalidInput):
        reveal.add_paper_pair(org_user, event.id, a.badge_no, a.badge_no)
    db.session.rollback()
    with pytest.raises(InvalidInput):
        reveal.add_paper_pair(org_user, event.id, a.badge_no, 7)  # no attendee wears badge 7 here
    db.session.rollback()
    registered_only = factories.make_employee(gender="male")
    mf.sign_up(registered_only, event)  # signed up but never checked in: no badge
    with pytest.raises(InvalidInput):
        reveal.add_paper_pair(org_user, event.id, a.badge_no, 3)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MixerPair).where(MixerPair.event_id == event.id)) == 1
    assert other_event.id != event.id and c_elsewhere.badge_no == 2


def test_paper_pair_outside_scope_is_not_found(org_user):
    event, (_w, a), (_m, b) = _couple(org_user)
    stranger = factories.make_organizer("jx-jiujiang")
    with pytest.raises(NotFound):
        reveal.add_paper_pair(stranger, event.id, a.badge_no, b.badge_no)


def test_paper_pair_after_reveal_counts_in_summary_and_app_pair_not_duplicated(org_user):
    signup_open = clock.now()
    pair, w, m = _revealed_pair(org_user)
    with pytest.raises(errors.DuplicatePair):
        reveal.add_paper_pair(org_user, pair.event_id, pair.badge_b, pair.badge_a)
    db.session.rollback()
    third = factories.make_employee(gender="female")
    # a late paper pair from the same mixer (people with badges 2 and 3)
    event = pair.event
    clock.set_now(signup_open)
    registration = mf.sign_up(third, event)
    with clock.frozen_at(mf.at_the_door(event)):
        checkin.check_in(org_user, event.id, registration_id=registration.id)
    db.session.commit()
    reveal.add_paper_pair(org_user, event.id, pair.badge_b, 3)
    db.session.commit()
    assert db.session.get(MixerReveal, event.id).pairs == 2


# --- outcome log ---------------------------------------------------------------------------------------------


def test_followups_dating_confirmed_only_when_both_say_so(org_user):
    pair, w, m = _revealed_pair(org_user)
    with pytest.raises(DomainError):
        outcomes.answer_followup(w, pair.id, "3d", "in_touch")  # not yet due
    db.session.rollback()
    clock.advance(timedelta(days=3))
    outcomes.answer_followup(w, pair.id, "3d", "dating")
    outcomes.answer_followup(m, pair.id, "3d", "in_touch")
    db.session.commit()
    assert OutcomeKind.DATING not in _kinds(pair)
    with pytest.raises(DomainError):
        outcomes.answer_followup(w, pair.id, "3d", "ended")  # answered once per stage
    db.session.rollback()
    clock.advance(timedelta(weeks=3))
    outcomes.answer_followup(m, pair.id, "3w", "dating")
    db.session.commit()
    assert _kinds(pair).count(OutcomeKind.DATING) == 1
    outcomes.answer_followup(w, pair.id, "3w", "dating")
    db.session.commit()
    assert _kinds(pair).count(OutcomeKind.DATING) == 1  # logged once
    assert presenters.my_matches(w)[0].confirmed


def test_followup_ended_logged_and_answers_private(org_user):
    pair, w, m = _revealed_pair(org_user)
    clock.advance(timedelta(days=4))
    outcomes.answer_followup(w, pair.id, "3d", "ended")
    db.session.commit()
    assert _kinds(pair) == [OutcomeKind.MATCHED, OutcomeKind.FOLLOWUP, OutcomeKind.ENDED]
    # m sees only their own (unanswered) follow-ups, nothing of w's answer
    [view] = presenters.my_matches(m)
    assert [s.my_answer for s in view.stages] == [None, None, None]
    assert view.stages[0].can_answer and not view.stages[1].can_answer


def test_followup_by_non_member_not_found_and_bad_answer_refused(org_user):
    pair, w, _m = _revealed_pair(org_user)
    clock.advance(timedelta(days=4))
    with pytest.raises(NotFound):
        outcomes.answer_followup(factories.make_employee(), pair.id, "3d", "dating")
    db.session.rollback()
    with pytest.raises(InvalidInput):
        outcomes.answer_followup(w, pair.id, "4d", "dating")
    db.session.rollback()
    with pytest.raises(InvalidInput):
        outcomes.answer_followup(w, pair.id, "3d", "married")


def test_outcome_log_survives_account_deletion_with_null_user(org_user):
    pair, w, _m = _revealed_pair(org_user)
    pair_id = pair.id
    db.session.delete(w)
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(MixerPair, pair_id)
    assert kept is not None and None in (kept.user_a_id, kept.user_b_id)
    assert _kinds(kept) == [OutcomeKind.MATCHED]


# --- sign-up ---------------------------------------------------------------------------------------------------


def test_sign_up_needs_separate_consent_recorded_and_withdrawal_cancels():
    event = mf.make_mixer()
    person = factories.make_employee(gender="female")
    with pytest.raises(ConsentRequired):
        booking.book(person, event.slots[0].id)
    db.session.rollback()
    registration = mf.sign_up(person, event, nickname="小鹿")
    consent = db.session.scalars(select(Consent).where(Consent.user_id == person.id)).one()
    assert consent.purpose == MIXER_SIGNUP and consent.notice_version and consent.granted_at
    assert registration.options == {"nickname": "小鹿", "share_contact": False}
    assert accounts.withdraw_consent(person, MIXER_SIGNUP) == 1
    db.session.commit()
    db.session.refresh(registration)
    assert registration.status == Status.CANCELLED
    assert db.session.get(Consent, consent.id).withdrawn_at is not None


def test_sign_up_refuses_real_name_as_nickname_and_age_outside_window():
    event = mf.make_mixer()
    person = factories.make_employee(gender="female", name="李娜")
    with pytest.raises(InvalidInput):
        mf.sign_up(person, event, nickname="李娜")
    db.session.rollback()
    too_old = factories.make_employee(gender="male", age=45)
    with pytest.raises(NotEligible):
        mf.sign_up(too_old, event)


def test_subtree_restriction_uses_event_rule():
    home = factories.make_org("jx-nanchang")
    elsewhere = factories.make_org("jx-jiujiang")
    event = mf.make_mixer(subtree_only=True, organization=home)
    inside = factories.make_employee(gender="female", organization=home)
    outside = factories.make_employee(gender="female", organization=elsewhere)
    assert mf.sign_up(inside, event).status == Status.CONFIRMED
    with pytest.raises(NotEligible):
        mf.sign_up(outside, event)


def test_gender_quota_full_side_waitlists_other_side_books():
    event = mf.make_mixer(quota_female=2, quota_male=2)
    women = [mf.sign_up(factories.make_employee(gender="female"), event) for _ in range(3)]
    man = mf.sign_up(factories.make_employee(gender="male"), event)
    assert [r.status for r in women] == [Status.CONFIRMED, Status.CONFIRMED, Status.WAITLISTED]
    assert man.status == Status.CONFIRMED


def test_ticket_shows_badge_and_nickname(org_user):
    event, (w, a), _ = _couple(org_user)
    registration = [r for r in booking_queries.my_registrations(w) if r.event_id == event.id][0]
    from app.events.kinds import policy_for

    lines = dict(policy_for("mixer").ticket_lines(registration))
    assert lines == {"胸牌号": str(a.badge_no), "联谊昵称": "小鹿"}


def test_outcome_entries_cannot_be_edited_or_deleted(org_user):
    pair, _w, _m = _revealed_pair(org_user)
    entry = db.session.scalars(select(MixerOutcome).where(MixerOutcome.pair_id == pair.id)).one()
    entry.kind = OutcomeKind.DATING
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    entry = db.session.scalars(select(MixerOutcome).where(MixerOutcome.pair_id == pair.id)).one()
    db.session.delete(entry)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert _kinds(pair) == [OutcomeKind.MATCHED]
