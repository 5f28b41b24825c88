from app.accounts.models import User
from app.extensions import db
from app.outbox import cancel_pending, enqueue
from app.outbox.models import OutboxMessage, OutboxStatus

from .. import factories


def _rows(user: User):
    return db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.user_id == user.id)).all()


def test_enqueue_writes_one_row_per_channel_and_is_idempotent():
    person = factories.make_employee()
    enqueue(person, "reminder", "registration:1:24h", data={"x": 1}, channels=["inbox", "email"])
    enqueue(person, "reminder", "registration:1:24h", data={"x": 2}, channels=["inbox", "email"])
    db.session.commit()
    rows = _rows(person)
    assert sorted(r.channel for r in rows) == ["email", "inbox"]
    assert all(r.data == {"x": 1} and r.status == OutboxStatus.PENDING for r in rows)


def test_enqueue_rolls_back_with_the_change_that_caused_it():
    person = factories.make_employee()
    enqueue(person, "booking_confirmed", "registration:7", channels=["inbox"])
    db.session.rollback()
    assert _rows(person) == []


def test_cancel_pending_skips_only_that_subject():
    person = factories.make_employee()
    enqueue(person, "reminder", "registration:1:24h", channels=["inbox"])
    enqueue(person, "reminder", "registration:12:24h", channels=["inbox"])
    assert cancel_pending(person.id, "registration:1:") == 1
    db.session.commit()
    statuses = {r.idempotency_key.split(":")[2]: r.status for r in _rows(person)}
    assert statuses == {"1": OutboxStatus.SKIPPED, "12": OutboxStatus.PENDING}
