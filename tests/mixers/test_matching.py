"""Match cards and the reveal, through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.booking import checkin as booking_checkin
from app.booking import queries as booking_queries
from app.booking.errors import IllegalTransition
from app.errors import InvalidInput
from app.extensions import db
from app.mixers import cards, checkin, errors, presenters, reveal, windows
from app.mixers.models import MixerOutcome, MixerPair, MixerPick, MixerReveal, OutcomeKind, PairSource
from app.outbox.models import OutboxMessage

from .. import factories
from . import factories as mf


@pytest.fixture
def org_user():
    return factories.make_organizer()


def _people(org_user, event, women: int, men: int):
    people = []
    for index in range(women):
        user = factories.make_employee(gender="female")
        people.append((user, mf.attend(org_user, event, user, nickname=f"小红{index + 1}")))
    for index in range(men):
        user = factories.make_employee(gender="male")
        people.append((user, mf.attend(org_user, event, user, nickname=f"阿明{index + 1}")))
    return people


def _pairs(event):
    return sorted(
        (p.badge_a, p.badge_b) for p in db.session.scalars(select(MixerPair).where(MixerPair.event_id == event.id))
    )


def test_badges_are_numbered_in_check_in_order_and_stable(org_user):
    event = mf.make_mixer()
    people = _people(org_user, event, 2, 1)
    assert [a.badge_no for _u, a in people] == [1, 2, 3]
    user, attendee = people[0]
    reg = [r for r in booking_queries.my_registrations(user) if r.event_id == event.id][0]
    again = checkin.check_in(org_user, event.id, registration_id=reg.id)
    db.session.commit()
    assert again.badge_no == attendee.badge_no


def test_mutual_pairs_computed_and_one_sided_ignored(org_user):
    event = mf.make_mixer(max_picks=3)
    (w1, a1), (w2, a2), (m1, b1), (m2, b2) = _people(org_user, event, 2, 2)
    mf.open_window(event)
    mf.pick(w1, event, b1.badge_no, b2.badge_no)  # w1 ↔ m1 mutual; w1 → m2 one-sided
    mf.pick(m1, event, a1.badge_no)
    mf.pick(w2, event, b1.badge_no)  # one-sided
    mf.pick(m2, event, a2.badge_no)  # one-sided
    mf.after_window(event)
    assert reveal.reveal(event.id, clock.now()) == 1
    db.session.commit()
    assert _pairs(event) == [(a1.badge_no, b1.badge_no)]
    summary = db.session.get(MixerReveal, event.id)
    assert (summary.attendees, summary.pickers, summary.picks_made, summary.pairs) == (4, 4, 5, 1)
    assert db.session.scalar(select(func.count()).select_from(MixerPick)) == 0
    pair = db.session.scalars(select(MixerPair)).one()
    assert pair.source == PairSource.APP and {pair.user_a_id, pair.user_b_id} == {w1.id, m1.id}
    kinds = [o.kind for o in db.session.scalars(select(MixerOutcome).where(MixerOutcome.pair_id == pair.id))]
    assert kinds == [OutcomeKind.MATCHED]


def test_nobody_picks_gives_no_pairs_and_everyone_told_no_match(org_user):
    event = mf.make_mixer()
    people = _people(org_user, event, 2, 2)
    mf.after_window(event)
    assert reveal.reveal(event.id, clock.now()) == 0
    db.session.commit()
    assert _pairs(event) == []
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "mixer_reveal")).all()
    assert sorted(m.user_id for m in messages) == sorted(u.id for u, _a in people)
    assert all(m.data["matched"] is False and m.essential for m in messages)


def test_everybody_picks_everybody_gives_every_cross_pair(org_user):
    event = mf.make_mixer(max_picks=3)
    people = _people(org_user, event, 3, 3)
    women = [(u, a) for u, a in people if a.gender.value == "female"]
    men = [(u, a) for u, a in people if a.gender.value == "male"]
    mf.open_window(event)
    for user, _a in women:
        mf.pick(user, event, *[b.badge_no for _u, b in men])
    for user, _a in men:
        mf.pick(user, event, *[b.badge_no for _u, b in women])
    mf.after_window(event)
    assert reveal.reveal(event.id, clock.now()) == 9
    db.session.commit()
    assert len(_pairs(event)) == 9
    followups = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "mixer_followup")
    )
    assert followups == 9 * 2 * 3  # every member of every pair, at 3 days, 3 weeks, 3 months
    due = sorted(
        {
            m.due_at - clock.now()
            for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "mixer_followup"))
        }
    )
    assert due == [timedelta(days=3), timedelta(weeks=3), timedelta(days=90)]


def test_open_to_all_genders_allows_same_gender_pairs(org_user):
    event = mf.make_mixer(other_gender_only=False)
    (w1, a1), (w2, a2) = _people(org_user, event, 2, 0)
    mf.open_window(event)
    mf.pick(w1, event, a2.badge_no)
    mf.pick(w2, event, a1.badge_no)
    mf.after_window(event)
    assert reveal.reveal(event.id, clock.now()) == 1


def test_picks_refused_outside_window(org_user):
    event = mf.make_mixer()
    (w1, _a1), (m1, b1) = _people(org_user, event, 1, 1)
    clock.set_now(event.starts_at - timedelta(minutes=1))
    with pytest.raises(errors.PickWindowClosed):
        cards.set_picks(w1, event.id, [b1.badge_no])
    db.session.rollback()
    mf.after_window(event)
    with pytest.raises(errors.PickWindowClosed):
        cards.set_picks(w1, event.id, [b1.badge_no])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MixerPick)) == 0


def test_picks_refused_after_reveal_even_if_window_reopened(org_user):
    event = mf.make_mixer()
    (w1, _a1), (_m1, b1) = _people(org_user, event, 1, 1)
    mf.open_window(event)
    reveal.close_and_reveal(org_user, event.id)
    db.session.commit()
    with pytest.raises(errors.PickWindowClosed):
        cards.set_picks(w1, event.id, [b1.badge_no])


def test_non_attendees_cannot_pick_or_be_picked(org_user):
    event = mf.make_mixer()
    (w1, _a1), (m1, b1) = _people(org_user, event, 1, 1)
    registered_only = factories.make_employee(gender="male")
    mf.sign_up(registered_only, event, nickname="未到场")
    outsider = factories.make_employee(gender="male")
    mf.open_window(event)
    for person in (registered_only, outsider):
        with pytest.raises(errors.NotAnAttendee):
            cards.set_picks(person, event.id, [1])
        db.session.rollback()
    with pytest.raises(errors.InvalidPick):
        cards.set_picks(w1, event.id, [b1.badge_no, 99])  # badge 99 belongs to nobody here
    db.session.rollback()
    with pytest.raises(errors.InvalidPick):
        cards.set_picks(w1, event.id, [1])  # oneself
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MixerPick)) == 0


def test_other_gender_only_refuses_same_gender_pick(org_user):
    event = mf.make_mixer()
    (w1, _a1), (_w2, a2), _m = _people(org_user, event, 2, 1)
    mf.open_window(event)
    with pytest.raises(errors.InvalidPick):
        cards.set_picks(w1, event.id, [a2.badge_no])


def test_more_than_k_picks_refused_and_picks_can_change(org_user):
    event = mf.make_mixer(max_picks=2)
    people = _people(org_user, event, 1, 3)
    w1 = people[0][0]
    badges = [a.badge_no for _u, a in people[1:]]
    mf.open_window(event)
    with pytest.raises(errors.TooManyPicks):
        cards.set_picks(w1, event.id, badges)
    db.session.rollback()
    mf.pick(w1, event, badges[0], badges[1])
    mf.pick(w1, event, badges[2])
    attendee = checkin.attendee_for(w1, event.id)
    assert cards.my_picks(attendee) == [badges[2]]
    mf.pick(w1, event)
    assert cards.my_picks(attendee) == []


def test_nickname_required_before_picking_and_never_the_real_name(org_user):
    event = mf.make_mixer()
    woman = factories.make_employee(gender="female", name="王小丽")
    man = factories.make_employee(gender="male")
    a = mf.attend(org_user, event, woman)
    b = mf.attend(org_user, event, man, nickname="阿杰")
    mf.open_window(event)
    with pytest.raises(errors.NicknameRequired):
        cards.set_picks(woman, event.id, [b.badge_no])
    db.session.rollback()
    with pytest.raises(InvalidInput):
        checkin.update_card_profile(woman, event.id, nickname="王小丽", share_contact=False)
    db.session.rollback()
    checkin.update_card_profile(woman, event.id, nickname="小鹿", share_contact=True, contact="wx-xiaolu")
    db.session.commit()
    assert mf.pick(woman, event, b.badge_no) == [b.badge_no]
    assert a.badge_no == 1


def test_reveal_refused_while_window_open_and_runs_once(org_user):
    event = mf.make_mixer()
    _people(org_user, event, 1, 1)
    mf.open_window(event)
    with pytest.raises(errors.WindowStillOpen):
        reveal.reveal(event.id, clock.now())
    db.session.rollback()
    mf.after_window(event)
    reveal.reveal(event.id, clock.now())
    db.session.commit()
    assert reveal.reveal(event.id, clock.now()) == 0
    db.session.commit()
    assert (
        db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "mixer_reveal"))
        == 2
    )


def test_scheduler_task_reveals_due_mixers_only(org_user):
    from app.tasks import registered_tasks

    task = {t.name: t for t in registered_tasks()}["mixers.reveal_due"]
    assert task.every_seconds == 60
    due = mf.make_mixer(title="已截止的联谊")
    later = mf.make_mixer(title="还在选的联谊", pick_hours_after_end=72)
    mf.after_window(due)
    assert task.func(clock.now()) == 1
    db.session.commit()
    assert windows.is_revealed(due.id) and not windows.is_revealed(later.id)
    assert task.func(clock.now()) == 0


def test_contact_shared_only_when_both_agree(org_user):
    event = mf.make_mixer()
    w = factories.make_employee(gender="female")
    m = factories.make_employee(gender="male")
    a = mf.attend(org_user, event, w, nickname="小鹿", share_contact=True)
    b = mf.attend(org_user, event, m, nickname="阿杰", share_contact=False)
    mf.open_window(event)
    mf.pick(w, event, b.badge_no)
    mf.pick(m, event, a.badge_no)
    mf.after_window(event)
    reveal.reveal(event.id, clock.now())
    db.session.commit()
    [for_w] = presenters.my_matches(w)
    assert for_w.partner_name == "阿杰" and for_w.partner_contact is None
    with pytest.raises(errors.AlreadyRevealed):
        checkin.update_card_profile(m, event.id, nickname="阿杰", share_contact=True)


def test_contact_shown_when_both_agree(org_user):
    event = mf.make_mixer()
    w = factories.make_employee(gender="female")
    m = factories.make_employee(gender="male", phone="13912345678")
    a = mf.attend(org_user, event, w, nickname="小鹿", share_contact=True)
    b = mf.attend(org_user, event, m, nickname="阿杰", share_contact=True)
    mf.open_window(event)
    mf.pick(w, event, b.badge_no)
    mf.pick(m, event, a.badge_no)
    mf.after_window(event)
    reveal.reveal(event.id, clock.now())
    db.session.commit()
    assert presenters.my_matches(w)[0].partner_contact == "13912345678"


def test_check_in_only_for_confirmed_registrants(org_user):
    event = mf.make_mixer(quota_female=1, quota_male=1)
    first = factories.make_employee(gender="female")
    waiting = factories.make_employee(gender="female")
    mf.sign_up(first, event)
    registration = mf.sign_up(waiting, event)
    assert registration.status.value == "waitlisted"
    with pytest.raises(IllegalTransition):
        checkin.check_in(org_user, event.id, registration_id=registration.id)


def test_any_check_in_path_gives_a_badge_and_undo_takes_it_away(org_user):
    event = mf.make_mixer()
    w, m = factories.make_employee(gender="female"), factories.make_employee(gender="male")
    registration = mf.sign_up(w, event, nickname="小鹿")
    b = mf.attend(org_user, event, m, nickname="阿杰")
    booking_checkin.check_in(registration, actor=org_user)  # the generic console's path, not this feature's page
    db.session.commit()
    attendee = checkin.attendee_for(w, event.id)
    assert attendee is not None and attendee.badge_no == 2 and attendee.nickname == "小鹿"
    mf.open_window(event)
    mf.pick(m, event, attendee.badge_no)
    booking_checkin.undo_check_in(registration, actor=org_user)
    db.session.commit()
    assert checkin.attendee_for(w, event.id) is None
    assert cards.my_picks(b) == []


def test_mixer_created_without_settings_gets_defaults_and_is_revealed_on_time(org_user):
    event = factories.make_event(kind="mixer", capacity=4, quota_female=2, quota_male=2)
    assert windows.settings_for(event.id) is None
    clock.set_now(event.ends_at + timedelta(hours=23))
    assert reveal.reveal_due(clock.now()) == 0
    clock.set_now(event.ends_at + timedelta(days=1, minutes=1))
    assert reveal.reveal_due(clock.now()) == 1
    db.session.commit()
    settings = windows.settings_for(event.id)
    assert settings.max_picks == 5 and settings.other_gender_only and windows.is_revealed(event.id)
