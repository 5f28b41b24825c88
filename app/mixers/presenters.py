"""Mixer sub-domain: what pages show — a person's match card and matches, the organizer's dashboard (aggregates
only, never who picked whom) and the list at the door.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from .. import clock
from ..accounts.models import Gender, User
from ..booking.models import Registration, Status
from ..events.models import Event
from ..extensions import db
from .cards import candidates, my_picks
from .checkin import attendee_for
from .models import MixerAttendee, MixerOutcome, MixerPair, MixerReveal, MixerSettings, OutcomeKind, PairSource
from .outcomes import STAGE_DELAYS, has_outcome, pair_member
from .windows import ensure_settings, get_managed_mixer, get_mixer, is_revealed, window_state

# Counts about picking are shown to organizers only for mixers at least this large (no count small enough to
# single someone out).
MIN_GROUP = 10


@dataclass
class StageView:
    stage: str
    due_at: datetime
    my_answer: str | None
    can_answer: bool


@dataclass
class MatchView:
    pair: MixerPair
    event: Event
    partner_name: str
    partner_contact: str | None
    confirmed: bool
    stages: list[StageView] = field(default_factory=list)


def _match_view(pair: MixerPair, user: User, now: datetime) -> MatchView:
    member = pair_member(pair, user)
    mine, partner = (pair.attendee_a, pair.attendee_b) if member == "a" else (pair.attendee_b, pair.attendee_a)
    contact = None
    if mine is not None and partner is not None and mine.share_contact and partner.share_contact:
        partner_user = db.session.get(User, partner.user_id) if partner.user_id is not None else None
        contact = partner.contact or (partner_user.phone if partner_user else None)
    answers = {
        row.stage: row.answer
        for row in db.session.scalars(
            select(MixerOutcome).where(
                MixerOutcome.pair_id == pair.id,
                MixerOutcome.kind == OutcomeKind.FOLLOWUP,
                MixerOutcome.member == member,
            )
        )
    }
    stages = []
    for stage, delay in STAGE_DELAYS.items():
        due = pair.created_at + delay
        answer = answers.get(stage.value)
        stages.append(StageView(stage.value, due, answer, answer is None and due <= now))
    return MatchView(
        pair=pair,
        event=pair.event,
        partner_name=partner.display_name if partner is not None else _("（已注销）"),
        partner_contact=contact,
        confirmed=has_outcome(pair.id, OutcomeKind.DATING),
        stages=stages,
    )


def my_matches(user: User, now: datetime | None = None, event_id: int | None = None) -> list[MatchView]:
    """The person's own mutual pairs (revealed ones and paper ones), newest first."""
    now = now or clock.now()
    query = select(MixerPair).where(or_(MixerPair.user_a_id == user.id, MixerPair.user_b_id == user.id))
    if event_id is not None:
        query = query.where(MixerPair.event_id == event_id)
    pairs = db.session.scalars(query.order_by(MixerPair.created_at.desc(), MixerPair.id.desc())).unique()
    visible = [p for p in pairs if p.source == PairSource.PAPER or is_revealed(p.event_id)]
    return [_match_view(pair, user, now) for pair in visible]


@dataclass
class CardView:
    event: Event
    settings: MixerSettings
    state: str
    attendee: MixerAttendee | None
    candidates: list[MixerAttendee]
    picks: list[int]
    matches: list[MatchView]


def card_view(user: User, event_id: int, now: datetime | None = None) -> CardView:
    """What one person sees on a mixer's match-card page: their badge and nickname; during the window the other
    attendees (badge and nickname only) and their own ticks; after the reveal only their own mutual matches."""
    now = now or clock.now()
    event = get_mixer(event_id)
    settings = ensure_settings(event)
    state = window_state(event, settings, now)
    attendee = attendee_for(user, event.id)
    people: list[MixerAttendee] = []
    picks: list[int] = []
    matches: list[MatchView] = []
    if attendee is not None:
        if state == "open":
            people = candidates(attendee, settings)
        if state in ("open", "closed"):
            picks = my_picks(attendee)
        if state == "revealed":
            matches = my_matches(user, now, event_id=event.id)
    return CardView(event, settings, state, attendee, people, picks, matches)


@dataclass
class GenderLine:
    gender: str
    quota: int | None
    confirmed: int
    waitlisted: int
    attended: int


@dataclass
class OrganizerView:
    event: Event
    settings: MixerSettings
    state: str
    genders: list[GenderLine]
    attendees: int
    summary: MixerReveal | None
    show_pick_counts: bool
    paper_pairs: int


def organizer_view(actor: User, event_id: int, now: datetime | None = None) -> OrganizerView:
    """The organizer's dashboard: gender balance of the roster, attendees, window state and, after the reveal,
    aggregates only (picking counts suppressed below MIN_GROUP attendees). Never who picked whom."""
    event = get_managed_mixer(actor, event_id)
    settings = ensure_settings(event)
    counts = Counter(
        {
            (gender, status): n
            for gender, status, n in db.session.execute(
                select(Registration.gender, Registration.status, func.count())
                .where(Registration.event_id == event.id)
                .group_by(Registration.gender, Registration.status)
            )
        }
    )
    slot = event.slots[0] if event.slots else None
    genders = []
    for gender in (Gender.FEMALE, Gender.MALE):
        genders.append(
            GenderLine(
                gender=gender.value,
                quota=slot.quota_for(gender) if slot else None,
                confirmed=counts[(gender, Status.CONFIRMED)] + counts[(gender, Status.ATTENDED)],
                waitlisted=counts[(gender, Status.WAITLISTED)],
                attended=counts[(gender, Status.ATTENDED)],
            )
        )
    attendees = db.session.scalar(select(func.count()).where(MixerAttendee.event_id == event.id)) or 0
    summary = db.session.get(MixerReveal, event.id)
    paper = (
        db.session.scalar(
            select(func.count()).where(MixerPair.event_id == event.id, MixerPair.source == PairSource.PAPER)
        )
        or 0
    )
    return OrganizerView(
        event=event,
        settings=settings,
        state=window_state(event, settings, now),
        genders=genders,
        attendees=attendees,
        summary=summary,
        show_pick_counts=summary is not None and summary.attendees >= MIN_GROUP,
        paper_pairs=paper,
    )


@dataclass
class CheckinRow:
    registration: Registration
    name: str
    gender: str | None
    badge_no: int | None


def checkin_rows(actor: User, event_id: int) -> list[CheckinRow]:
    """Confirmed and checked-in registrants with their badge numbers, for the door."""
    event = get_managed_mixer(actor, event_id)
    badges = {
        user_id: badge
        for user_id, badge in db.session.execute(
            select(MixerAttendee.user_id, MixerAttendee.badge_no).where(MixerAttendee.event_id == event.id)
        )
    }
    rows = db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_([Status.CONFIRMED, Status.ATTENDED]))
        .order_by(Registration.id)
    ).unique()
    result = []
    for registration in rows:
        user = registration.user
        result.append(
            CheckinRow(
                registration=registration,
                name=user.name if user else _("（已注销）"),
                gender=registration.gender.value if registration.gender else None,
                badge_no=badges.get(registration.user_id),
            )
        )
    return result
