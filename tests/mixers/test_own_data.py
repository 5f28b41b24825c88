"""A person's own mixer data: export (their side only), forgetting on account deletion, retention; and the
outbox's batch enqueue the reveal uses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from blinker import signal
from sqlalchemy import func, select

from app import clock, outbox
from app.extensions import db
from app.mixers import checkin, presenters, reveal
from app.mixers.models import MixerAttendee, MixerPair, MixerPick
from app.outbox.models import OutboxMessage

from .. import factories
from . import factories as mf


@pytest.fixture
def org_user():
    return factories.make_organizer()


def _export(user):  # type: ignore[no-untyped-def]
    results = [value for _receiver, value in signal("privacy-export").send(user) if value and value[0] == "mixers"]
    return results[0][1] if results else None


def test_export_holds_own_side_only(org_user):
    event = mf.make_mixer()
    w, m, c = (factories.make_employee(gender=g) for g in ("female", "male", "male"))
    a = mf.attend(org_user, event, w, nickname="小鹿", share_contact=True)
    b = mf.attend(org_user, event, m, nickname="阿杰")
    mf.attend(org_user, event, c, nickname="路人丙")
    mf.open_window(event)
    mf.pick(w, event, b.badge_no)
    mf.pick(c, event, a.badge_no)  # one-sided, about w
    [mine] = _export(w)
    assert mine["nickname"] == "小鹿" and mine["my_picks_before_reveal"] == [b.badge_no]
    assert "路人丙" not in repr(mine)
    assert _export(c)[0]["my_picks_before_reveal"] == [a.badge_no]
    mf.pick(m, event, a.badge_no)
    mf.after_window(event)
    reveal.reveal(event.id, clock.now())
    db.session.commit()
    [mine] = _export(w)
    assert mine["my_picks_before_reveal"] == [] and [x["partner_nickname"] for x in mine["matches"]] == ["阿杰"]
    assert _export(c)[0]["matches"] == []
    assert _export(factories.make_employee()) is None


def test_account_deleting_before_reveal_removes_card_and_picks(org_user):
    event = mf.make_mixer()
    w, m = factories.make_employee(gender="female"), factories.make_employee(gender="male")
    a = mf.attend(org_user, event, w, nickname="小鹿")
    mf.attend(org_user, event, m, nickname="阿杰")
    mf.open_window(event)
    mf.pick(m, event, a.badge_no)
    signal("account-deleting").send(w)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(MixerPick)) == 0
    assert checkin.attendee_for(w, event.id) is None


def test_account_deleting_after_reveal_keeps_pair_and_wipes_card(org_user):
    event = mf.make_mixer()
    w, m = factories.make_employee(gender="female"), factories.make_employee(gender="male")
    a = mf.attend(org_user, event, w, nickname="小鹿", share_contact=True)
    checkin.update_card_profile(w, event.id, nickname="小鹿", share_contact=True, contact="wx-lu")
    b = mf.attend(org_user, event, m, nickname="阿杰")
    reveal.add_paper_pair(org_user, event.id, a.badge_no, b.badge_no)
    db.session.commit()
    mf.after_window(event)
    reveal.reveal(event.id, clock.now())
    db.session.commit()
    signal("account-deleting").send(w)
    db.session.commit()
    attendee = db.session.get(MixerAttendee, a.id)
    assert attendee.nickname is None and attendee.contact is None
    assert db.session.scalar(select(func.count()).select_from(MixerPair)) == 1
    assert presenters.my_matches(m)[0].partner_name == f"{a.badge_no} 号嘉宾"


def test_retention_wipes_old_contact_details(org_user):
    event = mf.make_mixer()
    w = factories.make_employee(gender="female")
    mf.attend(org_user, event, w, nickname="小鹿")
    checkin.update_card_profile(w, event.id, nickname="小鹿", share_contact=True, contact="wx-lu")
    db.session.commit()
    mf.after_window(event)
    reveal.reveal(event.id, clock.now())
    db.session.commit()
    signal("privacy-retention").send(clock.now() + timedelta(days=30))
    db.session.commit()
    assert checkin.attendee_for(w, event.id).contact == "wx-lu"  # still within the retention period
    signal("privacy-retention").send(clock.now() + timedelta(days=200))
    db.session.commit()
    attendee = checkin.attendee_for(w, event.id)
    assert attendee.contact is None and attendee.nickname == "小鹿"


def test_enqueue_many_writes_what_enqueue_would_and_is_idempotent():
    person = factories.make_employee()
    messages = [
        {"user": person, "kind": "mixer_followup", "subject": f"mixer-pair:1:{stage}", "data": {"stage": stage}}
        for stage in ("3d", "3w")
    ]
    outbox.enqueue_many(messages)
    outbox.enqueue_many(messages)
    outbox.enqueue(person, "mixer_followup", "mixer-pair:1:3d")  # same idempotency key: nothing new
    db.session.commit()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.data for r in rows] == [{"stage": "3d"}, {"stage": "3w"}]  # two rows, not three
    assert all(r.template == "mixer_followup" and r.status.value == "pending" for r in rows)
