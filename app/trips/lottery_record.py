"""What a drawn trip lottery publishes: the result messages to every applicant, the export anyone can re-run,
its verification, and a person's own lottery entry and number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..accounts.models import User
from ..booking.models import Registration
from ..database import is_postgres
from ..extensions import db
from ..outbox import Recipient, enqueue_many
from . import lottery
from .attendance import details_deadline_from
from .catalogue import get_departure, get_public_departure, slot_of
from .models import TripDeparture, TripLotteryEntry


def announce_results(now: datetime) -> int:
    """Scheduler task: tell every applicant of a drawn departure their result — one essential "lottery_result"
    message each (confirmed with the details deadline, waitlisted with the position, or not drawn), written in
    one statement. The draw commits the decision alone, so its locks are held briefly; the messages follow within
    a tick. Safe on several schedulers (the departure row is claimed) and if run twice (idempotency keys).
    Returns how many departures were announced."""
    claim = (
        select(TripDeparture)
        .where(TripDeparture.drawn_at.is_not(None), TripDeparture.results_announced_at.is_(None))
        .order_by(TripDeparture.event_id)
    )
    if is_postgres():
        claim = claim.with_for_update(skip_locked=True, of=TripDeparture)
    departures = db.session.scalars(claim).unique().all()
    for departure in departures:
        _announce(departure)
        departure.results_announced_at = now
    db.session.flush()
    return len(departures)


def _announce(departure: TripDeparture) -> None:
    """The result messages of one drawn departure, in rank order. The message carries the facts; its words are
    rendered at delivery in the recipient's language (``notifications/messages/lottery_result.txt``)."""
    event = departure.event
    rows = db.session.execute(
        select(
            TripLotteryEntry.outcome,
            Registration.id,
            Registration.confirmed_at,
            User.id.label("user_id"),
            User.email,
            User.phone,
            User.deleted_at,
        )
        .join(Registration, Registration.id == TripLotteryEntry.registration_id)
        .join(User, User.id == Registration.user_id)
        .where(
            TripLotteryEntry.event_id == event.id,
            TripLotteryEntry.outcome.in_(["confirmed", "waitlisted", "not_drawn"]),
        )
        .order_by(TripLotteryEntry.rank)
    ).all()
    base = {"event_id": event.id, "event_title": event.title, "link": f"/events/{event.id}"}
    messages = []
    waitlisted = 0
    for row in rows:
        facts: dict[str, Any] = {"outcome": row.outcome}
        if row.outcome == "confirmed" and row.confirmed_at is not None:
            facts["details_deadline"] = details_deadline_from(row.confirmed_at, departure).isoformat(sep=" ")
        elif row.outcome == "waitlisted":
            waitlisted += 1
            facts["waitlist_position"] = waitlisted
        messages.append(
            {
                "user": Recipient(row.user_id, row.email, row.phone, row.deleted_at),
                "kind": "lottery_result",
                "subject": f"trip-lottery:{event.id}",
                "template": "lottery_result",
                "data": {**base, "registration_id": row.id, **facts},
                "essential": True,
            }
        )
    enqueue_many(messages)


def lottery_export(event_id: int, *, published_only: bool = True) -> dict[str, Any]:
    """The published record of a departure's lottery: enough for anyone to re-run it (``lottery.verify``)."""
    departure = get_public_departure(event_id) if published_only else get_departure(event_id)
    event = departure.event
    entries = list(
        db.session.scalars(
            select(TripLotteryEntry).where(TripLotteryEntry.event_id == event.id).order_by(TripLotteryEntry.anon_id)
        )
    )
    ranked = sorted((e for e in entries if e.rank is not None), key=lambda e: e.rank or 0)
    return {
        "algorithm_version": departure.algorithm_version or lottery.ALGORITHM_VERSION,
        "departure_id": event.id,
        "title": event.title,
        "seats": slot_of(departure).capacity,
        "frozen_at": departure.frozen_at.isoformat(sep=" ") if departure.frozen_at else None,
        "applicants_hash": departure.applicants_hash,
        "public_value": departure.public_value,
        "public_value_note": departure.public_value_note,
        "drawn_at": departure.drawn_at.isoformat(sep=" ") if departure.drawn_at else None,
        "applicants": [{"id": e.anon_id, "tier": e.tier} for e in entries],
        "ranking": [e.anon_id for e in ranked],
        "outcomes": {e.anon_id: e.outcome for e in ranked},
    }


def verify_departure(event_id: int) -> lottery.Verification:
    """Re-run a drawn departure's lottery from what is stored and published."""
    departure = get_departure(event_id)
    if departure.drawn_at is None:
        return lottery.Verification(False, "not drawn yet")
    return lottery.verify(lottery_export(event_id, published_only=False))


def my_entry(user: User, event_id: int) -> TripLotteryEntry | None:
    return db.session.scalar(
        select(TripLotteryEntry)
        .join(Registration, Registration.id == TripLotteryEntry.registration_id)
        .where(TripLotteryEntry.event_id == event_id, Registration.user_id == user.id)
    )


def anon_id_preview(registration: Registration) -> str:
    """The lottery number an application will carry (shown before the freeze, so people can find
    themselves)."""
    return lottery.anon_id_for(current_app.config["SECRET_KEY"], registration.id)
