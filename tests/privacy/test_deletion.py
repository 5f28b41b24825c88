"""Delete my account: re-authentication, identifiers gone from every table, statistics exactly the same."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from blinker import signal
from sqlalchemy import JSON, String, Text, func, select

from app import clock
from app.accounts import services as accounts
from app.accounts.consents import MIXER_SIGNUP
from app.accounts.models import ApiToken, Consent, LoginSession, PasswordResetToken, Profile, User
from app.booking import services as booking
from app.booking.models import Registration, Status
from app.events.models import Event
from app.extensions import db
from app.outbox import enqueue
from app.outbox.models import OutboxMessage, OutboxStatus

from .. import factories
from .factories import book, past_history

NAME = "欧阳明珠"
EMAIL = "ouyang.mingzhu@example.com"
PHONE = "13979112345"
NICKNAME = "赣江月光"  # the mixer nickname chosen at sign-up


def registration_statistics() -> Counter:
    """What the statistics are made of: registrations by kind, status and gender snapshot."""
    rows = db.session.execute(
        select(Event.kind, Registration.status, Registration.gender, func.count())
        .join(Event, Event.id == Registration.event_id)
        .group_by(Event.kind, Registration.status, Registration.gender)
    ).all()
    return Counter({(kind, str(status), str(gender)): count for kind, status, gender, count in rows})


def dashboard_statistics() -> Any:
    """The statistics feature's own figures (its roll-up), when that feature is installed."""
    try:
        from app.stats import rollup
        from app.stats.models import StatsRollup
    except ImportError:
        return None
    rollup.refresh(clock.now())
    db.session.commit()
    rows = db.session.scalars(select(StatsRollup)).all()
    skip = {"id", "refreshed_at"}
    return sorted(
        tuple((c.name, str(getattr(row, c.key))) for c in StatsRollup.__table__.columns if c.name not in skip)
        for row in rows
    )


def text_columns():
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text | JSON):
                yield table, column


def find_everywhere(needles: list[str]) -> list[str]:
    """Every (table.column) in the whole database whose value contains one of ``needles``."""
    hits = []
    for table, column in text_columns():
        for (value,) in db.session.execute(select(column).where(column.isnot(None))):
            text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            for needle in needles:
                if needle in text:
                    hits.append(f"{table.name}.{column.name} contains {needle!r}")
    return hits


@pytest.fixture
def person():
    return factories.make_employee(name=NAME, email=EMAIL, phone=PHONE)


def _login(app, user):
    client = app.test_client()
    factories.login(client, user)
    return client


def _mixer_footprint(person: User, organizer: User) -> None:
    """A mixer the person signed up for with a nickname, attended (a badge) and left with a revealed pair."""
    from app.mixers import reveal

    from ..mixers import factories as mf

    event = mf.make_mixer(title="青春有约·单身职工联谊会")
    partner = factories.make_employee(gender="male", name="钱进")
    mine = mf.attend(organizer, event, person, nickname=NICKNAME, share_contact=True)
    theirs = mf.attend(organizer, event, partner, nickname="阿杰")
    mf.open_window(event)
    mf.pick(person, event, theirs.badge_no)
    mf.pick(partner, event, mine.badge_no)
    mf.after_window(event)
    assert reveal.reveal(event.id, clock.now()) == 1
    db.session.commit()


def _full_footprint(person: User) -> None:
    """A person who did everything: past events, a mixer with a nickname and a pair, a future booking, consents,
    messages, tokens, free text."""
    organizer = factories.make_organizer()
    past_history(person, organizer)
    accounts.grant_consent(person, MIXER_SIGNUP)
    _mixer_footprint(person, organizer)
    enqueue(person, "booking_confirmed", "registration:x", data={"name": NAME, "phone": PHONE, "email": EMAIL})
    sent = OutboxMessage(
        user_id=person.id,
        channel="email",
        kind="reminder",
        template="reminder",
        data={"to": EMAIL},
        idempotency_key=f"{person.id}:reminder:x",
        status=OutboxStatus.FAILED,
        last_error=f"550 {EMAIL} refused",
    )
    db.session.add(sent)
    accounts.issue_api_token(person)
    accounts.create_password_reset(person)
    inbox = db.metadata.tables.get("inbox_messages")
    if inbox is not None:  # the notifications feature: an in-app message that names the person
        db.session.execute(inbox.insert().values(user_id=person.id, kind="test", title=f"{NAME}，您好", body=PHONE))
    rejected_event = factories.make_event(title="吉安职工摄影展")
    rejected = book(person, rejected_event)
    booking.cancel(rejected, actor=organizer, reason=f"{NAME}（{PHONE}）本人电话要求取消", by_organizer=True)
    db.session.commit()


def test_deletion_removes_the_person_from_every_table_and_keeps_statistics(app, person):
    _full_footprint(person)
    bystander = factories.make_employee(name="旁观者")
    client = _login(app, person)
    found = find_everywhere([PHONE, NAME, EMAIL, NICKNAME])
    assert f"registrations.options contains {NICKNAME!r}" in found, "the search reads JSON values"
    stats_before = registration_statistics()
    dashboard_before = dashboard_statistics()
    registrations_before = db.session.scalar(select(func.count()).select_from(Registration))
    my_messages = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.user_id == person.id)).all()

    response = client.post("/privacy/delete", data={"password": factories.PASSWORD, "understood": "y"})
    assert response.status_code == 302

    assert find_everywhere([PHONE, NAME, EMAIL, NICKNAME]) == []
    assert registration_statistics() == stats_before
    assert dashboard_statistics() == dashboard_before
    assert db.session.scalar(select(func.count()).select_from(Registration)) == registrations_before
    # What remains is anonymous: rows without a person, an empty account row, withdrawn consents.
    account = db.session.get(User, person.id)
    assert account.phone is None and account.email is None and account.password_hash is None
    assert account.name == "已注销用户" and account.deleted_at is not None
    assert (
        db.session.scalar(select(func.count()).select_from(Registration).where(Registration.user_id == person.id)) == 0
    )
    for model in (LoginSession, ApiToken, PasswordResetToken, Profile):
        assert db.session.scalar(select(func.count()).select_from(model).where(model.user_id == person.id)) == 0
    consents = db.session.scalars(select(Consent).where(Consent.user_id == person.id)).all()
    assert consents and all(c.withdrawn_at is not None for c in consents)
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(my_messages))).all()
    assert messages and all(m.user_id is None and m.data == {} for m in messages)
    assert all(m.status != OutboxStatus.PENDING for m in messages)
    # The bystander is untouched, the deleted person is logged out and cannot log in again.
    assert db.session.get(User, bystander.id).name == "旁观者"
    assert client.get("/me/bookings").status_code == 302
    login = app.test_client().post("/account/login", data={"phone": PHONE, "password": factories.PASSWORD})
    assert login.status_code == 200 and "手机号或密码不正确。" in login.get_data(as_text=True)


def test_deletion_cancels_upcoming_bookings_and_frees_the_seat(app, person):
    event = factories.make_event(capacity=1, title="庐山疗休养")
    mine = book(person, event)
    waiting = book(factories.make_employee(), event)
    client = _login(app, person)
    page = client.get("/privacy/delete").get_data(as_text=True)
    assert "庐山疗休养" in page and "将被取消的报名（1）" in page
    client.post("/privacy/delete", data={"password": factories.PASSWORD, "understood": "y"})
    db.session.refresh(mine)
    db.session.refresh(waiting)
    assert mine.status == Status.CANCELLED and mine.user_id is None
    assert waiting.status == Status.OFFERED


def test_wrong_password_changes_nothing_and_is_rate_limited(app, person):
    client = _login(app, person)
    for _ in range(5):
        response = client.post("/privacy/delete", data={"password": "not-my-password", "understood": "y"})
        assert response.status_code == 200 and "密码不正确。" in response.get_data(as_text=True)
    assert client.post("/privacy/delete", data={"password": "not-my-password", "understood": "y"}).status_code == 429
    account = db.session.get(User, person.id)
    assert account.phone == PHONE and account.deleted_at is None


def test_the_box_must_be_ticked(app, person):
    client = _login(app, person)
    response = client.post("/privacy/delete", data={"password": factories.PASSWORD})
    assert "请勾选确认。" in response.get_data(as_text=True)
    assert db.session.get(User, person.id).deleted_at is None


def test_staff_accounts_are_closed_by_an_administrator(organizer_client, organizer):
    page = organizer_client.get("/privacy/delete").get_data(as_text=True)
    assert "工作人员账号请联系省总工会管理员注销。" in page
    organizer_client.post("/privacy/delete", data={"password": factories.PASSWORD, "understood": "y"})
    assert db.session.get(User, organizer.id).deleted_at is None


def test_features_anonymise_their_rows_through_account_deleting(app, person):
    seen: dict[str, Any] = {}

    def receiver(user):
        seen.update(id=user.id, phone=user.phone, name=user.name)
        return 3

    sig = signal("account-deleting")
    sig.connect(receiver)
    try:
        _login(app, person).post("/privacy/delete", data={"password": factories.PASSWORD, "understood": "y"})
    finally:
        sig.disconnect(receiver)
    assert seen == {"id": person.id, "phone": PHONE, "name": NAME}


def test_a_failing_feature_receiver_rolls_everything_back(person):
    from app.privacy.deletion import delete_account

    def broken(user):
        raise RuntimeError("feature failed")

    sig = signal("account-deleting")
    sig.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            delete_account(person, factories.PASSWORD)
        db.session.rollback()
    finally:
        sig.disconnect(broken)
    assert db.session.get(User, person.id).phone == PHONE


def test_deleting_twice_is_refused_cleanly(person):
    from app.errors import DomainError
    from app.privacy.deletion import delete_account

    delete_account(person, factories.PASSWORD)
    db.session.commit()
    with pytest.raises(DomainError):
        delete_account(person, factories.PASSWORD)
    assert db.session.get(User, person.id).name == "已注销用户"


def test_anonymised_registrations_keep_only_the_options_statistics_read(app, person):
    """The mixer registration loses its nickname (badge and pair stay, without it); the screening registration
    keeps its package, which the two-cancer figures count."""
    from app.mixers.models import MixerAttendee, MixerPair

    from ..screenings import factories as sf

    person.profile.birth_date = date(sf.VISIT_DAY.year - 38, 1, 10)  # two-cancer age (35–64), mixer age (22–40)
    visit = sf.plan()
    screening = sf.book(person, sf.slot_at(visit, "09:00"), package="two_cancer")
    clock.set_now(visit.ends_at + timedelta(days=1))
    organizer = factories.make_organizer()
    _mixer_footprint(person, organizer)
    mixer = db.session.scalars(
        select(Registration).join(Event).where(Registration.user_id == person.id, Event.kind == "mixer")
    ).one()
    assert mixer.options == {"nickname": NICKNAME, "share_contact": True}

    _login(app, person).post("/privacy/delete", data={"password": factories.PASSWORD, "understood": "y"})

    db.session.refresh(mixer)
    db.session.refresh(screening)
    assert mixer.user_id is None and mixer.status == Status.ATTENDED and mixer.options is None
    attendee = db.session.scalars(select(MixerAttendee).where(MixerAttendee.registration_id == mixer.id)).one()
    assert attendee.nickname is None and attendee.badge_no == 1
    assert db.session.scalar(select(func.count()).select_from(MixerPair)) == 1
    assert screening.user_id is None and screening.options == {"package": "two_cancer"}


def test_every_json_column_is_accounted_for_by_deletion():
    """A JSON column added without a decision about the personal values it may hold fails here."""
    from app.privacy.deletion import JSON_COLUMNS

    schema = {
        f"{table.name}.{column.name}"
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, JSON)
    }
    assert schema == set(JSON_COLUMNS)
