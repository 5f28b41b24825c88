"""The mixer demo data: believable, idempotent, and showing every stage of a mixer."""

from __future__ import annotations

from sqlalchemy import func, select

from app import clock
from app.demo import core
from app.demo import mixers as demo
from app.events.models import Event
from app.extensions import db
from app.mixers import windows
from app.mixers.models import MixerOutcome, MixerPair, MixerPick, OutcomeKind


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_seed_demo_is_idempotent_and_covers_past_and_live_mixers():
    core.seed_demo()
    db.session.commit()
    demo.seed_demo()
    db.session.commit()
    counts = (_count(Event), _count(MixerPair), _count(MixerOutcome), _count(MixerPick))
    demo.seed_demo()
    db.session.commit()
    assert (_count(Event), _count(MixerPair), _count(MixerOutcome), _count(MixerPick)) == counts
    mixers = {e.title: e for e in db.session.scalars(select(Event).where(Event.kind == "mixer")).unique()}
    assert len(mixers) == 4
    states = {
        title: windows.window_state(event, windows.ensure_settings(event), clock.now())
        for title, event in mixers.items()
    }
    assert sorted(states.values()) == ["before", "open", "revealed", "revealed"]
    live = next(e for t, e in mixers.items() if states[t] == "open")
    assert _count(MixerPick) > 0 and db.session.scalar(select(func.count()).where(MixerPick.event_id != live.id)) == 0
    sources = set(db.session.scalars(select(MixerPair.source)))
    assert {s.value for s in sources} == {"app", "paper"}
    dating = db.session.scalar(select(func.count()).where(MixerOutcome.kind == OutcomeKind.DATING))
    assert dating and dating >= 1
