"""The draw through the services: freezing, the public value, confirmations and the waitlist in rank order,
tiers, one trip a year, withdrawal of other applications, the scheduler task, export and verification."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.accounts.models import User
from app.booking import queries as booking_queries
from app.booking import services as booking
from app.booking.errors import NotEligible
from app.booking.models import Cause, Registration, RegistrationHistory, Status
from app.events.models import Allocation, WaitlistPolicy
from app.extensions import db
from app.notifications.messages import render
from app.outbox.models import OutboxMessage
from app.tasks import registered_tasks
from app.trips import lottery, lottery_draw, lottery_record, policy
from app.trips.errors import AlreadyDrawn, LotteryNotReady, OneTripPerYear
from app.trips.models import TripLotteryEntry

from .. import factories
from . import factories as tf


def _status(registration: Registration) -> Status:
    db.session.refresh(registration)
    return registration.status


def _people(n: int, **kwargs) -> list:
    return [factories.make_employee(**kwargs) for _ in range(n)]


def test_draw_confirms_the_top_ranks_and_waitlists_the_rest_in_rank_order():
    departure = tf.make_departure(seats=2)
    people = _people(6)
    regs = [tf.apply(p, departure) for p in people]
    assert {r.status for r in regs} == {Status.PENDING}
    tf.close_window(departure)
    tf.set_value(departure, "58213")
    result = lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.commit()

    export = lottery_record.lottery_export(departure.event_id)
    entries = {e.registration_id: e for e in db.session.scalars(select(TripLotteryEntry))}
    expected = [
        a.anon_id for a in lottery.rank([lottery.Applicant(a["id"], a["tier"]) for a in export["applicants"]], "58213")
    ]
    assert export["ranking"] == expected
    by_rank = sorted(regs, key=lambda r: entries[r.id].rank)
    assert [_status(r) for r in by_rank] == [Status.CONFIRMED] * 2 + [Status.WAITLISTED] * 4
    assert [booking_queries.waitlist_position(r) for r in by_rank[2:]] == [1, 2, 3, 4]
    assert len(result.confirmed) == 2 and len(result.waitlisted) == 4
    db.session.refresh(departure.event.slots[0])
    assert departure.event.slots[0].taken == 2
    # The results are written by the scheduler once the draw has committed, once however often it runs.
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "lottery_result")).all() == []
    assert lottery_record.announce_results(clock.now()) == 1
    assert lottery_record.announce_results(clock.now()) == 0
    db.session.commit()
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "lottery_result")).all()
    assert {m.user_id for m in messages} == {p.id for p in people}
    assert len([m for m in messages if m.channel == "inbox"]) == len(people)
    assert all(m.essential for m in messages)
    assert "候补名单第 1 位" in _result_text(messages, by_rank[2].user_id)
    assert "获得名额" in _result_text(messages, by_rank[0].user_id)
    # The words are rendered at delivery, in the reader's language.
    reader = db.session.get(User, by_rank[3].user_id)
    reader.locale = "en"
    db.session.commit()
    assert "number 2 on the waitlist" in _result_text(messages, reader.id)
    assert lottery_record.verify_departure(departure.event_id).message == "match"


def test_without_a_waitlist_the_others_are_not_drawn_and_told_so():
    departure = tf.make_departure(seats=1)
    people = _people(3)
    registrations = [tf.apply(person, departure) for person in people]
    departure.event.slots[0].waitlist_policy = WaitlistPolicy.NONE
    db.session.commit()
    tf.close_window(departure)
    tf.set_value(departure, "11")
    result = lottery_draw.draw_lottery(departure.event_id, clock.now())
    lottery_record.announce_results(clock.now())
    db.session.commit()

    assert len(result.confirmed) == 1 and len(result.not_drawn) == 2 and result.waitlisted == []
    statuses = sorted(_status(r) for r in registrations)
    assert statuses == sorted([Status.CONFIRMED, Status.REJECTED, Status.REJECTED])
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "lottery_result")).all()
    for registration in registrations:
        text = _result_text(messages, registration.user_id)
        expected = "获得名额" if registration.status == Status.CONFIRMED else "很遗憾您未中签"
        assert expected in text
    history = db.session.scalars(
        select(RegistrationHistory).where(RegistrationHistory.reason == "lottery: not drawn")
    ).all()
    assert sorted(h.registration_id for h in history) == sorted(
        r.id for r in registrations if r.status == Status.REJECTED
    )


def _result_text(messages: list[OutboxMessage], user_id: int | None) -> str:
    """The lottery result a person reads in the inbox (rendered as delivery renders it)."""
    message = next(m for m in messages if m.user_id == user_id and m.channel == "inbox")
    return render(message, db.session.get(User, user_id)).text


def test_a_drawn_lottery_cannot_be_redrawn():
    departure = tf.make_departure(seats=1)
    for person in _people(3):
        tf.apply(person, departure)
    tf.close_window(departure)
    tf.set_value(departure)
    lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.commit()
    before = lottery_record.lottery_export(departure.event_id)
    with pytest.raises(AlreadyDrawn):
        lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.rollback()
    with pytest.raises(AlreadyDrawn):
        lottery_draw.set_public_value(tf.admin(), departure.event_id, "999")
    db.session.rollback()
    assert lottery_record.lottery_export(departure.event_id) == before


def test_no_draw_before_the_window_closes_or_without_a_public_value():
    departure = tf.make_departure(seats=1)
    tf.apply(factories.make_employee(), departure)
    with pytest.raises(LotteryNotReady):
        lottery_draw.set_public_value(tf.admin(), departure.event_id, "123")
    db.session.rollback()
    tf.close_window(departure)
    with pytest.raises(LotteryNotReady, match="公开随机数"):
        lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.rollback()
    tf.set_value(departure, "123")
    with pytest.raises(LotteryNotReady, match="不能修改"):
        lottery_draw.set_public_value(tf.admin(), departure.event_id, "456")
    db.session.rollback()
    db.session.refresh(departure)
    assert departure.public_value == "123" and departure.frozen_at is not None


def test_the_list_is_frozen_before_the_public_value_and_its_hash_is_published():
    departure = tf.make_departure(seats=1)
    tf.apply(factories.make_employee(), departure)
    tf.apply(factories.make_employee(), departure)
    tf.close_window(departure)
    assert lottery_draw.draw_due(clock.now()) == 1  # the scheduler freezes at window close
    db.session.commit()
    db.session.refresh(departure)
    assert departure.frozen_at is not None and departure.public_value is None and departure.drawn_at is None
    export = lottery_record.lottery_export(departure.event_id)
    assert export["applicants_hash"] == lottery.applicants_hash(
        [lottery.Applicant(a["id"], a["tier"]) for a in export["applicants"]]
    )
    assert lottery_draw.draw_due(clock.now()) == 0  # nothing to do until the organizer enters the public value
    tf.set_value(departure)
    assert lottery_draw.draw_due(clock.now()) == 1
    db.session.commit()
    db.session.refresh(departure)
    assert departure.drawn_at is not None
    assert lottery_draw.draw_due(clock.now()) == 0


def test_the_draw_task_is_registered_with_the_scheduler():
    names = {task.name: task for task in registered_tasks()}
    assert names["trips.draw_due"].every_seconds == 60
    assert "trips.expire_details" in names


def test_tiers_model_workers_then_key_industries_then_everyone_and_newcomers_first():
    departure = tf.make_departure(seats=2)
    others = _people(4, industry_code=None)  # frontline, neither chain nor cluster: tier "everyone"
    key = _people(3)  # frontline in 电子信息
    model = factories.make_employee(industry_code=None)
    model.profile.model_worker = True
    db.session.commit()
    for person in [*others, *key, model]:
        tf.apply(person, departure)
    tf.close_window(departure)
    tf.set_value(departure, "1")
    lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.commit()
    entries = {e.registration_id: e for e in db.session.scalars(select(TripLotteryEntry))}
    tier_of = {r.user_id: entries[r.id].tier for r in db.session.scalars(select(Registration))}
    assert tier_of[model.id] == 1
    assert {tier_of[p.id] for p in key} == {3}
    assert {tier_of[p.id] for p in others} == {5}
    confirmed = set(db.session.scalars(select(Registration.user_id).where(Registration.status == Status.CONFIRMED)))
    assert model.id in confirmed and len(confirmed & {p.id for p in key}) == 1
    # the waitlist serves the remaining key-industry workers before everyone else
    waiting = db.session.scalars(
        select(Registration).where(Registration.status == Status.WAITLISTED).order_by(Registration.priority)
    ).all()
    assert [tier_of[r.user_id] for r in waiting] == [3, 3, 5, 5, 5, 5]


def test_people_who_have_never_been_come_first_within_a_tier():
    last_year = tf.make_departure(seats=5, allocation=Allocation.FIRST_COME)
    veteran = factories.make_employee()
    tf.apply(veteran, last_year)  # confirmed on an earlier departure
    later = tf.make_departure(
        tf.make_route(title="庐山生态休养"), seats=1, starts_on=(clock.now() + timedelta(days=400)).date()
    )
    newcomer = factories.make_employee()
    tf.apply(veteran, later)
    tf.apply(newcomer, later)
    tf.close_window(later)
    tf.set_value(later, "7")
    lottery_draw.draw_lottery(later.event_id, clock.now())
    db.session.commit()
    regs = {
        r.user_id: r for r in db.session.scalars(select(Registration).where(Registration.event_id == later.event_id))
    }
    assert regs[newcomer.id].status == Status.CONFIRMED
    assert regs[veteran.id].status == Status.WAITLISTED


def test_winning_one_departure_withdraws_the_other_applications_that_year():
    a = tf.make_departure(seats=1)
    b = tf.make_departure(tf.make_route(title="瑞金红色故都研学"), seats=1)
    winner = factories.make_employee()
    winner.profile.model_worker = True  # tier 1: certain to win whichever is drawn first
    db.session.commit()
    others = _people(2)
    reg_a, reg_b = tf.apply(winner, a), tf.apply(winner, b)
    for person in others:
        tf.apply(person, a)
        tf.apply(person, b)
    tf.close_window(b)
    tf.set_value(a)
    tf.set_value(b)
    result = lottery_draw.draw_lottery(a.event_id, clock.now())
    db.session.commit()
    assert result.withdrawn_elsewhere == 1
    assert _status(reg_a) == Status.CONFIRMED
    assert _status(reg_b) == Status.CANCELLED
    lottery_draw.draw_lottery(b.event_id, clock.now())
    db.session.commit()
    confirmed_b = db.session.scalars(
        select(Registration.user_id).where(Registration.event_id == b.event_id, Registration.status == Status.CONFIRMED)
    ).all()
    assert len(confirmed_b) == 1 and confirmed_b[0] != winner.id
    outcomes = lottery_record.lottery_export(b.event_id)["outcomes"]
    assert sorted(outcomes.values()) == ["confirmed", "waitlisted", "withdrawn"]


def test_one_trip_a_year_a_holder_is_skipped_by_a_later_draw_and_cannot_apply_again():
    lottery_dep = tf.make_departure(seats=1)
    first_come = tf.make_departure(tf.make_route(title="婺源古村摄影"), seats=5, allocation=Allocation.FIRST_COME)
    person, other = factories.make_employee(), factories.make_employee()
    person.profile.model_worker = True
    db.session.commit()
    pending = tf.apply(person, lottery_dep)
    tf.apply(other, lottery_dep)
    assert tf.apply(person, first_come).status == Status.CONFIRMED
    third = tf.make_departure(tf.make_route(title="三清山"), seats=5, allocation=Allocation.FIRST_COME)
    with pytest.raises(NotEligible, match="每年只能参加一次"):
        booking.book(person, tf.slot_id(third))
    db.session.rollback()
    tf.close_window(lottery_dep)
    tf.set_value(lottery_dep)
    result = lottery_draw.draw_lottery(lottery_dep.event_id, clock.now())
    db.session.commit()
    assert [row.user_id for row in result.skipped] == [person.id]
    assert _status(pending) == Status.CANCELLED
    assert [r.user_id for r in result.confirmed] == [other.id]


def test_before_hold_refuses_a_second_place_in_the_same_year_but_not_the_next():
    # Early in the suite's year, so that departures a month ahead still fall in the same calendar year.
    clock.set_now(datetime(clock.now().year, 3, 1, 9, 0))
    this_year = tf.make_departure(seats=5, allocation=Allocation.FIRST_COME)
    person = factories.make_employee()
    tf.apply(person, this_year)
    same_year = tf.make_departure(tf.make_route(title="景德镇陶瓷文化"), seats=5, allocation=Allocation.FIRST_COME)
    registration = Registration(
        slot_id=tf.slot_id(same_year), event_id=same_year.event_id, user_id=person.id, ticket_code="x"
    )
    with pytest.raises(OneTripPerYear):
        policy.POLICY.before_hold(registration, same_year.event.slots[0])
    db.session.rollback()
    start = clock.now()
    next_year = tf.make_departure(
        tf.make_route(title="武功山"),
        seats=5,
        allocation=Allocation.FIRST_COME,
        starts_on=start.date().replace(year=start.year + 1, month=6, day=1),
    )
    clock.set_now(next_year.event.signup_opens_at + timedelta(hours=1))
    assert tf.apply(person, next_year).status == Status.CONFIRMED


def test_the_sweep_withdraws_applications_superseded_by_a_first_come_place():
    lottery_dep = tf.make_departure(seats=1)
    person = factories.make_employee()
    pending = tf.apply(person, lottery_dep)
    first_come = tf.make_departure(tf.make_route(title="庐山"), seats=5, allocation=Allocation.FIRST_COME)
    tf.apply(person, first_come)
    assert lottery_draw.withdraw_superseded(clock.now()) == 1
    db.session.commit()
    assert _status(pending) == Status.CANCELLED
    assert lottery_draw.withdraw_superseded(clock.now()) == 0


def test_verification_from_the_database_detects_a_tampered_entry():
    departure = tf.make_departure(seats=2)
    for person in _people(5):
        tf.apply(person, departure)
    tf.close_window(departure)
    tf.set_value(departure)
    lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.commit()
    assert lottery_record.verify_departure(departure.event_id).ok
    entry = db.session.scalars(select(TripLotteryEntry).order_by(TripLotteryEntry.rank.desc())).first()
    entry.tier = 0  # someone promotes the last-ranked applicant after the fact
    db.session.commit()
    result = lottery_record.verify_departure(departure.event_id)
    assert not result.ok and "applicants_hash differs" in result.message


def test_first_come_departures_have_no_lottery():
    departure = tf.make_departure(seats=1, allocation=Allocation.FIRST_COME)
    tf.close_window(departure)
    with pytest.raises(LotteryNotReady):
        lottery_draw.draw_lottery(departure.event_id, clock.now())


def test_entries_ranks_outcomes_and_history_rows_follow_the_draw():
    """Every entry's rank and outcome is written by one statement and each outcome's applications move set-wise:
    the ranks are the published ranking, each outcome matches its registration's new status (priority = rank for
    the confirmed and the waitlisted), and one LOTTERY history row is written per changed registration."""
    departure = tf.make_departure(seats=2)
    first_come = tf.make_departure(tf.make_route(title="婺源古村摄影"), seats=5, allocation=Allocation.FIRST_COME)
    people = _people(7)
    regs = [tf.apply(person, departure) for person in people]
    tf.apply(people[0], first_come)  # holds a trip place this year: skipped by the draw
    tf.close_window(departure)
    tf.set_value(departure, "20250")  # freezes the list
    lottery_draw.withdraw(regs[1], None, "withdrawn: test")  # leaves after the freeze: its entry is withdrawn
    db.session.commit()
    lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.commit()

    export = lottery_record.lottery_export(departure.event_id)
    ranking = lottery.rank([lottery.Applicant(a["id"], a["tier"]) for a in export["applicants"]], "20250")
    entries = db.session.scalars(
        select(TripLotteryEntry).where(TripLotteryEntry.event_id == departure.event_id).order_by(TripLotteryEntry.rank)
    ).all()
    assert [e.anon_id for e in entries] == [a.anon_id for a in ranking]
    assert [e.rank for e in entries] == list(range(1, len(people) + 1))
    registrations = {
        r.id: r
        for r in db.session.scalars(
            select(Registration)
            .where(Registration.event_id == departure.event_id)
            .execution_options(populate_existing=True)
        )
    }
    status_of = {
        "confirmed": Status.CONFIRMED,
        "waitlisted": Status.WAITLISTED,
        "skipped": Status.CANCELLED,
        "withdrawn": Status.CANCELLED,
    }
    assert sorted(e.outcome for e in entries) == sorted(
        ["confirmed", "confirmed", "skipped", "withdrawn", "waitlisted", "waitlisted", "waitlisted"]
    )
    assert {e.outcome for e in entries if e.registration_id == regs[0].id} == {"skipped"}
    assert {e.outcome for e in entries if e.registration_id == regs[1].id} == {"withdrawn"}
    for entry in entries:
        registration = registrations[entry.registration_id]
        assert registration.status == status_of[entry.outcome], entry.outcome
        if entry.outcome in ("confirmed", "waitlisted"):
            assert registration.priority == entry.rank
    history = db.session.scalars(
        select(RegistrationHistory).where(
            RegistrationHistory.registration_id.in_(registrations), RegistrationHistory.reason.startswith("lottery:")
        )
    ).all()
    changed = [e for e in entries if e.outcome != "withdrawn"]
    assert sorted(h.registration_id for h in history) == sorted(e.registration_id for e in changed)
    reason_of = {
        "confirmed": "lottery: drawn",
        "waitlisted": "lottery: waitlisted",
        "skipped": "lottery: already holds a trip place this year",
    }
    by_registration = {h.registration_id: h for h in history}
    for entry in changed:
        row = by_registration[entry.registration_id]
        assert (row.cause, row.from_status, row.to_status, row.reason) == (
            Cause.LOTTERY,
            Status.PENDING,
            status_of[entry.outcome],
            reason_of[entry.outcome],
        )
