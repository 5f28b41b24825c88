"""A complete audit trail (issue 23, item 5): every action that decides or reveals something about people is
recorded with actor, time, address, object and organization; city organizers read their own subtree's rows with
filters and a CSV export; who looked at whose data (view.*) is shown to admins only."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

from sqlalchemy import select

from app import audit, clock
from app.accounts.models import Role
from app.audit import AuditEntry
from app.extensions import db
from app.mixers import outcomes as mixer_outcomes
from app.mixers import reveal as mixer_reveal
from app.orgs.models import OrgLevel
from app.screenings import checkin
from app.trips import lottery_draw, priority

from .. import factories
from ..mixers import factories as mf
from ..screenings import factories as sf
from ..trips import factories as tf
from .factories import book


def _rows(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _one(action: str) -> AuditEntry:
    [entry] = _rows(action)
    return entry


# --- reading: scope, filters, CSV --------------------------------------------------------------------------------


def _world(organizer):  # type: ignore[no-untyped-def]
    """Rows under Nanchang (the city and a park below it), under Ganzhou, one without an organization, and a
    view.* row under Nanchang."""
    park = factories.make_org("jx-nanchang", level=OrgLevel.PARK, name="南昌高新区工会")
    here = factories.make_event(title="南昌活动")
    below = factories.make_event(title="园区活动", organization=park)
    there = factories.make_event(title="赣州活动", organization=factories.org("jx-ganzhou"))
    ganzhou = factories.make_organizer("jx-ganzhou")
    audit.record(organizer, "event.publish", "event", here.id, org=here.organization)
    audit.record(organizer, "registration.approve", "registration", 11, org=park)
    audit.record(ganzhou, "event.publish", "event", there.id, org=there.organization)
    audit.record(None, "scheduler.tick", "system", None)
    audit.record(organizer, "view.roster", "event", here.id, {"rows": 3}, org=here.organization)
    db.session.commit()
    return here, below, there, ganzhou


def test_a_city_organizer_reads_their_subtree_without_view_rows(organizer_client, organizer):
    here, _below, there, _ganzhou = _world(organizer)
    page = organizer_client.get("/organizer/audit").get_data(as_text=True)
    assert "共 2 条" in page and "registration.approve" in page and "view.roster" not in page
    assert "发布活动" in page and "通过报名" in page  # named in the reader's language, the code beside
    assert f"活动 #{here.id}" in page and f"活动 #{there.id}" not in page and "scheduler.tick" not in page
    assert organizer_client.get("/organizer/").get_data(as_text=True).count("/organizer/audit") == 1


def test_a_county_organizer_does_not_read_the_citys_rows(app, organizer):
    _world(organizer)
    park_organizer = factories.make_staff(Role.ORGANIZER, "jx-nanchang", "园区组织者")
    park = db.session.scalar(select(AuditEntry.org_path).where(AuditEntry.action == "registration.approve"))
    assert park is not None
    # Re-home the organizer into the park: they see the park's row only.
    from app.orgs.models import Organization

    park_organizer.organization = db.session.scalar(select(Organization).where(Organization.path == park))
    db.session.commit()
    entries, total = audit.search(audit.AuditFilter(), viewer=park_organizer)
    assert total == 1 and entries[0].action == "registration.approve"


def test_admins_read_everything_including_who_looked(admin_client, organizer):
    _world(organizer)
    page = admin_client.get("/organizer/audit").get_data(as_text=True)
    assert "共 5 条" in page and "view.roster" in page and "scheduler.tick" in page


def test_filters_by_action_actor_dates_and_object(organizer_client, organizer):
    here, _below, _there, ganzhou = _world(organizer)
    audit.record(ganzhou, "event.edit", "event", here.id, org=here.organization)  # a Ganzhou actor, Nanchang event
    db.session.commit()
    get = lambda query: organizer_client.get("/organizer/audit?" + query).get_data(as_text=True)  # noqa: E731
    assert "共 1 条" in get("action=event.publish")
    assert "共 1 条" in get(f"actor_id={ganzhou.id}")
    assert "共 2 条" in get(f"object_type=event&object_id={here.id}")
    today = clock.now()
    assert "共 3 条" in get(f"since={(today - timedelta(minutes=1)):%Y-%m-%dT%H:%M}")
    assert "共 0 条" in get(f"until={(today - timedelta(days=1)):%Y-%m-%dT%H:%M}")
    assert "共 0 条" in get("action=view.roster")  # not even by asking for it
    assert organizer_client.get("/organizer/audit?object_id=x&since=never&page=-3").status_code == 200


def test_the_csv_is_scoped_filtered_neutralised_and_audited(app, login_client):
    sly = factories.make_staff(Role.ORGANIZER, "jx-nanchang", '=HYPERLINK("http://evil","点我")')
    here, _below, there, _ganzhou = _world(sly)
    client = login_client(sly)
    response = client.get("/organizer/audit.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["时间", "操作人编号", "操作人", "操作", "操作名称"]
    actions = sorted((row[3], row[4]) for row in rows[1:])
    assert actions == [("event.publish", "发布活动"), ("registration.approve", "通过报名")]  # no Ganzhou, no view row
    assert all(row[2].startswith("'=") for row in rows[1:])  # the formula-looking name is text
    filtered = client.get("/organizer/audit.csv?action=event.publish").get_data(as_text=True)
    assert "registration.approve" not in filtered and "通过报名" not in filtered
    exported = _rows("audit.export")
    assert len(exported) == 2 and exported[0].actor_id == sly.id and exported[0].detail == {"rows": 2, "action": None}


def test_employees_and_strangers_cannot_read_the_trail(employee_client, client):
    assert employee_client.get("/organizer/audit").status_code == 403
    assert employee_client.get("/organizer/audit.csv").status_code == 403
    assert client.get("/organizer/audit.csv").status_code == 302


# --- what is recorded --------------------------------------------------------------------------------------------


def test_looking_at_a_roster_or_a_person_is_recorded(organizer_client, organizer):
    event = factories.make_event(capacity=3)
    person = factories.make_employee(name="欧阳娜娜", phone="13698765432")
    registration = book(person, event.slots[0])
    organizer_client.get(f"/organizer/events/{event.id}/roster")
    organizer_client.get(f"/organizer/registrations/{registration.id}")
    roster, looked = _one("view.roster"), _one("view.person")
    assert roster.object_id == event.id and roster.detail == {"rows": 1} and roster.actor_id == organizer.id
    assert looked.object_type == "user" and looked.object_id == person.id
    assert looked.detail == {"registration": registration.id, "event": event.id}
    assert looked.ip_address == "127.0.0.1" and looked.origin == "web"
    assert "欧阳娜娜" not in json.dumps([roster.detail, looked.detail], ensure_ascii=False)


def test_approvals_and_rejections_carry_the_events_organization(organizer):
    from app.events.models import Allocation
    from app.organizer import rosters

    event = factories.make_event(capacity=2, allocation=Allocation.APPROVAL)
    yes, no = (book(factories.make_employee(), event.slots[0]) for _ in range(2))
    rosters.approve(organizer, yes)
    rosters.reject(organizer, no, "名额已满")
    db.session.commit()
    assert _one("registration.approve").org_path == event.organization.path
    assert _one("registration.reject").object_id == no.id


def test_mixer_reveal_paper_pair_outcome_and_export(organizer, login_client, admin):
    event = mf.make_mixer()
    people = [factories.make_employee(gender=g) for g in ("female", "male", "female")]
    a, b, c = (mf.attend(organizer, event, person, nickname=f"嘉宾{n}") for n, person in enumerate(people))
    d = mf.attend(organizer, event, factories.make_employee(gender="male", name="丁"), nickname="小丁")
    mf.open_window(event)
    mf.pick(people[0], event, b.badge_no)
    mf.pick(people[1], event, a.badge_no)
    mf.after_window(event)
    mixer_reveal.reveal(event.id, clock.now())  # the scheduler: no actor
    db.session.commit()
    reveal = _one("mixer.reveal")
    assert reveal.actor_id is None and reveal.detail == {"attendees": 4, "pairs": 1, "new_pairs": 1}
    assert reveal.org_path == event.organization.path
    paper = mixer_reveal.add_paper_pair(organizer, event.id, c.badge_no, d.badge_no)
    db.session.commit()
    entry = _one("mixer.paper_pair")
    assert entry.actor_id == organizer.id and entry.object_id == paper.id and entry.detail == {"event": event.id}
    clock.set_now(paper.created_at + timedelta(days=4))
    mixer_outcomes.answer_followup(people[2], paper.id, "3d", "in_touch")
    db.session.commit()
    outcome = _one("mixer.outcome")
    assert outcome.actor_id == c.user_id and outcome.detail == {"stage": "3d"}  # the stage, never the answer
    # The organizer does not learn from the trail who answered about which pair; the admin does.
    entries, _total = audit.search(audit.AuditFilter(), viewer=organizer)
    assert "mixer.outcome" not in {e.action for e in entries} and "mixer.outcome" not in audit.actions(organizer)
    assert "mixer.outcome" in {e.action for e in audit.search(audit.AuditFilter(), viewer=admin)[0]}
    login_client(organizer).get(f"/organizer/mixers/{event.id}/roster.csv")
    export = _one("roster.export")
    assert export.object_id == event.id and export.detail == {"format": "mixer_csv", "rows": 4}


def test_mixer_reveal_by_the_organizer_names_them(organizer):
    event = mf.make_mixer()
    mf.attend(organizer, event, factories.make_employee(gender="female"))
    clock.set_now(event.starts_at + timedelta(hours=1))
    mixer_reveal.close_and_reveal(organizer, event.id)
    db.session.commit()
    assert _one("mixer.reveal").actor_id == organizer.id


def test_trip_freeze_public_value_draw_and_model_worker(organizer):
    departure = tf.make_departure(seats=1)
    for _ in range(3):
        tf.apply(factories.make_employee(), departure)
    tf.close_window(departure)
    tf.set_value(departure, "58213")  # freezes first
    frozen, value = _one("trip.freeze"), _one("trip.public_value")
    admin = tf.admin()
    assert frozen.actor_id == admin.id and frozen.detail is not None and frozen.detail["applicants"] == 3
    assert frozen.detail["sha256"] == departure.applicants_hash and value.detail == {"value": "58213"}
    lottery_draw.draw_lottery(departure.event_id, clock.now())  # the scheduler's draw
    db.session.commit()
    draw = _one("trip.draw")
    assert draw.actor_id is None and draw.detail is not None
    assert (draw.detail["confirmed"], draw.detail["waitlisted"]) == (1, 2)
    assert draw.org_path == departure.event.organization.path
    worker = factories.make_employee(organization=factories.org("jx-nanchang"))
    priority.mark_model_worker(organizer, user_id=worker.id, value=True)
    db.session.commit()
    marked = _one("trip.model_worker")
    assert marked.object_id == worker.id and marked.detail == {"value": True} and marked.actor_id == organizer.id


def test_screening_outcomes_and_absences(organizer):
    event = sf.plan()
    visit = sf.visit(event)
    came, away = sf.woman(40), sf.man()
    reg = sf.book(came, sf.slot_at(event, "10:15"))
    sf.book(away, sf.slot_at(event, "10:30"))
    factories.at(datetime(2026, 6, 15, 10, 20))
    checkin.record_outcome(organizer, visit, reg, "not_screened", "declined")
    db.session.commit()
    entry = _one("screening.outcome")
    assert entry.object_id == reg.id and entry.detail == {"event": event.id, "outcome": "not_screened"}
    factories.at(datetime(2026, 6, 15, 17, 0))
    checkin.mark_absent(organizer, visit)
    db.session.commit()
    assert _one("screening.absent").detail == {"no_shows": 1}


def test_an_account_deletion_is_recorded_without_the_person(employee):
    from app.privacy.deletion import delete_account

    uid, path = employee.id, employee.organization.path if employee.organization else None
    delete_account(employee, factories.PASSWORD)
    db.session.commit()
    entry = _one("account.delete")
    assert entry.object_id == uid and entry.actor_id is None and entry.org_path == path
    assert employee.phone is None or employee.phone not in json.dumps(entry.detail)
