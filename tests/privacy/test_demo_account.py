"""Deleting a demo account leaves the statistics pages identical and the person findable nowhere."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app import clock
from app.accounts.models import Role, User
from app.accounts.services import hash_password
from app.booking.models import Registration, Status
from app.events.models import Event
from app.extensions import db
from app.privacy.deletion import delete_account
from app.tasks import registered_tasks

from .. import factories
from .test_deletion import find_everywhere


def _seed_demo() -> None:
    from app.demo.cli import FEATURE_DEMOS

    for _name, seeder in FEATURE_DEMOS:
        seeder()
        db.session.commit()


def _run_task(name: str) -> None:
    for task in registered_tasks():
        if task.name == name:
            task.func(clock.now())
            db.session.commit()


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    text = response.get_data(as_text=True)
    text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?", "<time>", text)  # "as of" stamps


def _demo_person() -> User:
    """A demo employee with a unique name, past registrations and nothing upcoming (deletion would cancel
    upcoming bookings, which is a change of its own)."""
    now = clock.now()
    upcoming = (
        select(Registration.user_id)
        .join(Event, Event.id == Registration.event_id)
        .where(Event.starts_at > now, Registration.is_active.is_(True), Registration.user_id.isnot(None))
    )
    unique_names = select(User.name).group_by(User.name).having(func.count() == 1)
    candidates = db.session.execute(
        select(User, func.count(Registration.id))
        .join(Registration, Registration.user_id == User.id)
        .where(
            User.role == Role.EMPLOYEE,
            User.id.notin_(upcoming),
            User.name.in_(unique_names),
            Registration.status.in_([Status.ATTENDED, Status.NO_SHOW, Status.CANCELLED]),
        )
        .group_by(User.id)
        .order_by(func.count(Registration.id).desc(), User.id)
        .limit(1)
    ).first()
    if candidates is None:  # the demo has no history yet: give one employee some
        person = db.session.scalar(select(User).where(User.role == Role.EMPLOYEE, User.name.in_(unique_names)).limit(1))
        assert person is not None
        from .factories import past_history

        past_history(person, db.session.scalar(select(User).where(User.role == Role.ORGANIZER).limit(1)))
        return person
    return candidates[0]


def test_deleting_a_demo_account_keeps_statistics_pages_identical(app):
    _seed_demo()
    person = _demo_person()
    assert db.session.scalar(select(func.count()).select_from(Registration).where(Registration.user_id == person.id))
    person.password_hash = hash_password(factories.PASSWORD)
    db.session.commit()
    identifiers = [value for value in (person.phone, person.email, person.name) if value]
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).limit(1))
    admin.password_hash = hash_password(factories.PASSWORD)
    db.session.commit()
    client = app.test_client()
    factories.login(client, admin)
    pages = ["/stats/", "/stats/public", f"/stats/?year={clock.today().year - 1}"]
    _run_task("stats.refresh")
    before = {url: _page(client, url) for url in pages}
    assert find_everywhere(identifiers)

    delete_account(person, factories.PASSWORD)
    db.session.commit()
    _run_task("stats.refresh")

    after = {url: _page(client, url) for url in pages}
    for url in pages:
        assert after[url] == before[url], url
    assert find_everywhere(identifiers) == []
