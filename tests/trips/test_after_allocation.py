"""After the draw: attendance details by a deadline or the place passes on; roster and check-in; targets;
the verify-lottery command."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.booking.models import Registration, Status
from app.booking.window import OutsideCheckinWindow
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.outbox.models import OutboxMessage
from app.trips import attendance, lottery_draw, lottery_record, targets
from app.trips.errors import DetailsDeadlinePassed

from .. import factories
from . import factories as tf


def _drawn(seats: int = 1, applicants: int = 3):
    departure = tf.make_departure(seats=seats)
    people = [factories.make_employee() for _ in range(applicants)]
    regs = [tf.apply(p, departure) for p in people]
    tf.close_window(departure)
    tf.set_value(departure)
    lottery_draw.draw_lottery(departure.event_id, clock.now())
    db.session.commit()
    for r in regs:
        db.session.refresh(r)
    winners = [r for r in regs if r.status == Status.CONFIRMED]
    waiting = sorted((r for r in regs if r.status == Status.WAITLISTED), key=lambda r: r.priority)
    return departure, winners, waiting


def _details(**overrides):
    data = {
        "emergency_name": "李桂英",
        "emergency_phone": "13912345678",
        "dietary": "vegetarian",
        "dietary_note": "",
    }
    data.update(overrides)
    return attendance.DetailsData(**data)


def test_details_are_validated_and_kept():
    departure, [winner], _waiting = _drawn()
    with pytest.raises(InvalidInput) as error:
        attendance.submit_details(winner.user, winner.id, _details(emergency_phone="12345", dietary="pizza"))
    assert set(error.value.fields) == {"emergency_phone", "dietary"}
    db.session.rollback()
    attendance.submit_details(winner.user, winner.id, _details())
    db.session.commit()
    assert attendance.attendance_for(winner.id).emergency_name == "李桂英"


def test_someone_else_cannot_submit_details_for_a_registration():
    _departure, [winner], [loser, *_] = _drawn()
    with pytest.raises(NotFound):
        attendance.submit_details(loser.user, winner.id, _details())


def test_without_details_by_the_deadline_the_place_goes_to_the_next_on_the_waitlist():
    departure, [winner], [first_waiting, second_waiting] = _drawn()
    deadline = attendance.details_deadline(winner, departure)
    assert deadline == clock.now() + timedelta(hours=72)
    assert attendance.expire_details(deadline - timedelta(minutes=1)) == 0
    clock.set_now(deadline + timedelta(minutes=1))
    with pytest.raises(DetailsDeadlinePassed):
        attendance.submit_details(winner.user, winner.id, _details())
    db.session.rollback()
    assert attendance.expire_details(clock.now()) == 1
    db.session.commit()
    db.session.refresh(winner)
    db.session.refresh(first_waiting)
    db.session.refresh(second_waiting)
    assert winner.status == Status.CANCELLED
    assert first_waiting.status == Status.OFFERED
    assert second_waiting.status == Status.WAITLISTED
    lost = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "trip_place_lost")).all()
    assert [m.user_id for m in lost] == [winner.user_id]
    assert attendance.expire_details(clock.now()) == 0


def test_details_given_in_time_keep_the_place():
    departure, [winner], _waiting = _drawn()
    attendance.submit_details(winner.user, winner.id, _details())
    db.session.commit()
    assert attendance.expire_details(clock.now() + timedelta(days=10)) == 0
    db.session.refresh(winner)
    assert winner.status == Status.CONFIRMED


def test_roster_and_check_in_are_scoped_to_the_organizers_subtree():
    departure, winners, waiting = _drawn(seats=2, applicants=3)
    attendance.submit_details(winners[0].user, winners[0].id, _details())
    db.session.commit()
    organizer = factories.make_organizer("jx")
    found, rows, waitlist = attendance.roster(organizer, departure.event_id)
    assert {r.registration.id for r in rows} == {w.id for w in winners}
    assert [r.id for r in waitlist] == [w.id for w in waiting]
    assert sum(1 for r in rows if r.attendance is not None) == 1
    outsider = factories.make_organizer("jx-ganzhou")
    with pytest.raises(NotFound):
        attendance.roster(outsider, departure.event_id)
    with pytest.raises(NotFound):
        attendance.check_in_participant(outsider, departure.event_id, winners[0].id)
    with pytest.raises(OutsideCheckinWindow):  # days before departure
        attendance.check_in_participant(organizer, departure.event_id, winners[0].id)
    clock.set_now(departure.event.ends_at + timedelta(minutes=1))
    with pytest.raises(OutsideCheckinWindow, match="活动已结束"):
        attendance.check_in_participant(organizer, departure.event_id, winners[0].id)
    clock.set_now(departure.event.starts_at - timedelta(hours=2))  # at the coach, before it leaves
    assert attendance.check_in_participant(organizer, departure.event_id, winners[0].id) is True
    assert attendance.check_in_participant(organizer, departure.event_id, winners[0].id) is False
    db.session.commit()
    db.session.refresh(winners[0])
    assert winners[0].status == Status.ATTENDED


def test_targets_default_to_ten_thousand_for_the_province_and_count_allocated_places():
    province = factories.org("jx")
    year = clock.today().year
    assert targets.target_places(year, province) == 10_000
    assert targets.target_places(year, factories.org("jx-nanchang")) is None
    departure, winners, _waiting = _drawn(seats=2, applicants=4)
    year = departure.event.starts_at.year
    assert targets.allocated_places(year, province) == 2
    assert targets.allocated_places(year, factories.org("jx-ganzhou")) == 0
    targets.set_target(tf.admin(), year, province, 11_500)
    db.session.commit()
    assert targets.target_places(year, province) == 11_500
    with pytest.raises(InvalidInput):
        targets.set_target(tf.admin(), year, province, -1)
    with pytest.raises(NotFound):
        targets.set_target(factories.make_organizer("jx-ganzhou"), year, province, 5)


def test_verify_lottery_command_by_id_and_from_a_file(app, tmp_path):
    departure, _winners, _waiting = _drawn(seats=1, applicants=4)
    export = lottery_record.lottery_export(departure.event_id)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["trips", "verify-lottery", str(departure.event_id)])
    assert result.exit_code == 0 and result.output.strip() == "match"

    good = tmp_path / "export.json"
    good.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["trips", "verify-lottery", "--file", str(good)])
    assert result.exit_code == 0 and result.output.strip() == "match"

    export["applicants"][0]["tier"] += 1
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(export), encoding="utf-8")
    result = runner.invoke(args=["trips", "verify-lottery", "--file", str(bad)])
    assert result.exit_code == 1 and result.output.startswith("applicants_hash differs")

    result = runner.invoke(args=["trips", "verify-lottery", "999999"])
    assert result.exit_code == 2 and "not found" in result.output


def test_registrations_for_other_kinds_are_untouched_by_the_tasks():
    event = factories.make_event(capacity=2)
    person = factories.make_employee()
    from app.booking import services as booking

    registration = booking.book(person, event.slots[0].id)
    db.session.commit()
    assert attendance.expire_details(clock.now() + timedelta(days=3)) == 0
    assert lottery_draw.draw_due(clock.now() + timedelta(days=3)) == 0
    assert db.session.get(Registration, registration.id).status == Status.CONFIRMED


def test_privacy_export_deletion_and_retention_of_attendance_details():
    from blinker import signal

    departure, [winner], _waiting = _drawn()
    attendance.submit_details(winner.user, winner.id, _details())
    db.session.commit()
    person = winner.user
    sections = [result for _receiver, result in signal("privacy-export").send(person) if result]
    [section] = [s for s in sections if s[0] == "trips"]
    assert section[1][0]["emergency_phone"] == "13912345678" and section[1][0]["lottery_number"]
    assert attendance.attendance_for(winner.id) is not None
    # retention: kept until 90 days after the trip ended
    assert sum(r or 0 for _r, r in signal("privacy-retention").send(clock.now())) >= 0
    assert attendance.attendance_for(winner.id) is not None
    signal("privacy-retention").send(departure.event.ends_at + timedelta(days=91))
    db.session.commit()
    assert attendance.attendance_for(winner.id) is None
    attendance.submit_details(person, winner.id, _details())
    db.session.commit()
    from app.trips import privacy

    assert privacy.forget(person) == 1
    db.session.commit()
    assert attendance.attendance_for(winner.id) is None
