"""Mixer sub-domain: finding mixers, their settings (pick window, K picks, other gender only) and the state of the
pick window (before, open, closed, revealed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..accounts.models import User
from ..accounts.scope import require_manages
from ..errors import InvalidInput, NotFound
from ..events import services as events
from ..events.models import Event
from ..extensions import db
from .errors import AlreadyRevealed
from .models import MixerReveal, MixerSettings

KIND = "mixer"
DEFAULT_MAX_PICKS = 5
DEFAULT_PICK_WINDOW = timedelta(days=1)  # picks close this long after the mixer ends unless the organizer says


@dataclass
class SettingsData:
    pick_closes_at: datetime
    max_picks: int = DEFAULT_MAX_PICKS
    other_gender_only: bool = True


def _pick_window_end(ends_at: datetime) -> datetime:
    """Picks close DEFAULT_PICK_WINDOW after the mixer ends; a mixer ending at the calendar's end (a row from
    before the date rule) closes them at its last moment instead of overflowing."""
    if ends_at > datetime.max - DEFAULT_PICK_WINDOW:
        return datetime.max.replace(microsecond=0)
    return ends_at + DEFAULT_PICK_WINDOW


def settings_for(event_id: int) -> MixerSettings | None:
    """The mixer's settings row, if it has one yet (``ensure_settings`` gives it the defaults)."""
    return db.session.get(MixerSettings, event_id)


def ensure_settings(event: Event) -> MixerSettings:
    """Every mixer has settings: a mixer created elsewhere (API, console) gets the defaults — picks close a day
    after the mixer ends, 5 picks, other gender only."""
    settings = settings_for(event.id)
    if settings is None:
        settings = MixerSettings(
            event_id=event.id,
            pick_closes_at=_pick_window_end(event.ends_at),
            max_picks=DEFAULT_MAX_PICKS,
            other_gender_only=True,
        )
        db.session.add(settings)
        db.session.flush()
    return settings


def get_mixer(event_id: int) -> Event:
    """A published mixer (anything else answers NotFound)."""
    event = db.session.get(Event, event_id)
    if event is None or event.kind != KIND or not event.published:
        raise NotFound()
    return event


def get_managed_mixer(actor: User, event_id: int) -> Event:
    """A mixer the actor manages; outside their subtree it does not exist (404)."""
    return events.managed_event(actor, event_id, KIND)


def managed_mixers(actor: User) -> list[Event]:
    """Mixers of the organizations the actor manages, newest first."""
    from ..accounts.scope import scope_condition
    from ..orgs.models import Organization

    return list(
        db.session.scalars(
            select(Event)
            .join(Organization, Organization.id == Event.organization_id)
            .where(Event.kind == KIND, scope_condition(actor, Organization.path))
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(200)
        ).unique()
    )


def is_revealed(event_id: int) -> bool:
    """A mixer is revealed once its ``mixer_reveals`` summary exists; from then on picks and settings are history."""
    return db.session.get(MixerReveal, event_id) is not None


def validate_settings(event_starts_at: datetime, data: SettingsData) -> dict[str, list[str]]:
    """The pick window closes after the mixer starts, inside the dates events may take; 1 ≤ K ≤ 50."""
    errors: dict[str, list[str]] = {}
    if data.pick_closes_at <= event_starts_at:
        errors["pick_closes_at"] = [_("心动卡截止时间必须晚于活动开始时间。")]
    problem = events.date_problem(data.pick_closes_at)
    if problem:
        errors.setdefault("pick_closes_at", []).append(problem)
    if not 1 <= data.max_picks <= 50:
        errors["max_picks"] = [_("每人可选人数需在 1 到 50 之间。")]
    return errors


def create_mixer(actor: User, data: events.EventData, settings: SettingsData) -> Event:
    """An organizer creates a mixer (an event of kind "mixer" with its settings); all or nothing."""
    data.kind = KIND
    errors = validate_settings(data.starts_at, settings)
    if errors:
        require_manages(actor, data.organization)
        more = events.validate_event(data)
        raise InvalidInput(_("请检查填写的内容。"), fields={**more, **errors})
    event = events.create_event(actor, data)
    db.session.add(
        MixerSettings(
            event_id=event.id,
            pick_closes_at=settings.pick_closes_at,
            max_picks=settings.max_picks,
            other_gender_only=settings.other_gender_only,
        )
    )
    db.session.flush()
    return event


def update_settings(actor: User, event_id: int, data: SettingsData) -> MixerSettings:
    """Organizers may change the pick window and rules until the reveal; then they are history."""
    event = get_managed_mixer(actor, event_id)
    settings = lock_settings(event)
    if is_revealed(event.id):
        raise AlreadyRevealed()
    errors = validate_settings(event.starts_at, data)
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    settings.pick_closes_at = data.pick_closes_at
    settings.max_picks = data.max_picks
    settings.other_gender_only = data.other_gender_only
    db.session.flush()
    return settings


def lock_settings(event: Event, *, shared: bool = False) -> MixerSettings:
    """Lock the mixer's settings row: the reveal takes it exclusively, pick changes share it, so no pick lands
    after the reveal has read and deleted the picks."""
    ensure_settings(event)
    stmt = select(MixerSettings).where(MixerSettings.event_id == event.id).execution_options(populate_existing=True)
    if current_app.config.get("BOOKING_LOCKING", True):
        stmt = stmt.with_for_update(read=shared, of=MixerSettings)
    settings = db.session.scalars(stmt).unique().one()
    return settings


def window_state(event: Event, settings: MixerSettings, now: datetime | None = None) -> str:
    """'before' the mixer starts, 'open' until picks close, then 'closed' until the reveal, then 'revealed'."""
    now = now or clock.now()
    if is_revealed(event.id):
        return "revealed"
    if now < event.starts_at:
        return "before"
    if now < settings.pick_closes_at:
        return "open"
    return "closed"
