"""The gender quota holds when many people sign up for a mixer in the same instant (DESIGN.md §5)."""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import func, select

from app.accounts.consents import MIXER_SIGNUP
from app.accounts.models import User
from app.booking import services as booking
from app.booking.errors import Full
from app.booking.models import Registration, Status
from app.events.models import Slot, WaitlistPolicy
from app.extensions import db

from .. import factories
from . import factories as mf

WOMEN = 12
MEN = 4
QUOTA = 5


def _sign_up_all(app: Flask, user_ids: list[int], slot_id: int) -> list[str]:
    barrier = threading.Barrier(len(user_ids))
    results: list[str] = []
    lock = threading.Lock()

    def worker(user_id: int) -> None:
        with app.app_context():
            outcome = "error"
            try:
                barrier.wait(timeout=30)  # before any query: on SQLite every transaction begins IMMEDIATE
                user = db.session.get(User, user_id)
                assert user is not None
                registration = booking.book(
                    user, slot_id, consents=[MIXER_SIGNUP], options={"nickname": f"嘉宾{user_id}"}
                )
                status = registration.status.value
                db.session.commit()
                outcome = status
            except Full:
                db.session.rollback()
                outcome = "full"
            except Exception as error:  # noqa: BLE001 - any other error is what the test must catch
                db.session.rollback()
                outcome = f"error: {type(error).__name__}: {error}"
            finally:
                db.session.remove()
                with lock:
                    results.append(outcome)

    threads = [threading.Thread(target=worker, args=(user_id,)) for user_id in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _counts(event_id: int) -> dict[tuple[str, str], int]:
    rows = db.session.execute(
        select(Registration.gender, Registration.status, func.count())
        .where(Registration.event_id == event_id)
        .group_by(Registration.gender, Registration.status)
    ).all()
    return {(gender.value, status.value): n for gender, status, n in rows}


def test_gender_quota_holds_under_concurrent_sign_ups(app: Flask):
    event = mf.make_mixer(quota_female=QUOTA, quota_male=QUOTA)
    women = [factories.make_employee(gender="female").id for _ in range(WOMEN)]
    men = [factories.make_employee(gender="male").id for _ in range(MEN)]
    slot_id = event.slots[0].id
    db.session.commit()
    results = _sign_up_all(app, women + men, slot_id)
    assert not [r for r in results if r.startswith("error")], results
    db.session.expire_all()
    counts = _counts(event.id)
    assert counts.get(("female", Status.CONFIRMED.value)) == QUOTA
    assert counts.get(("female", Status.WAITLISTED.value)) == WOMEN - QUOTA
    assert counts.get(("male", Status.CONFIRMED.value)) == MEN  # the other side still books while women wait
    slot = db.session.get(Slot, slot_id)
    assert (slot.taken_female, slot.taken_male, slot.taken) == (QUOTA, MEN, QUOTA + MEN)


def test_gender_quota_without_waitlist_gives_clean_full_answers(app: Flask):
    event = mf.make_mixer(quota_female=QUOTA, quota_male=QUOTA, waitlist=WaitlistPolicy.NONE)
    women = [factories.make_employee(gender="female").id for _ in range(WOMEN)]
    slot_id = event.slots[0].id
    db.session.commit()
    results = _sign_up_all(app, women, slot_id)
    assert sorted(results) == sorted(["confirmed"] * QUOTA + ["full"] * (WOMEN - QUOTA)), results
    db.session.expire_all()
    assert db.session.get(Slot, slot_id).taken_female == QUOTA
