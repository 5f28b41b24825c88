"""The audit trail: record() joins the caller's transaction; admins browse and filter; no personal data.
Organizers' subtree reading, the CSV and the newly audited actions: test_audit_trail.py."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app import audit
from app.audit import AuditEntry
from app.extensions import db

from .. import factories
from .factories import book


def test_record_flushes_in_the_callers_transaction(organizer):
    with audit.acting(ip="10.0.0.8"):
        entry = audit.record(organizer, "event.create", "event", 42, {"kind": "general"})
    assert entry.id is not None and entry.actor_id == organizer.id and entry.ip_address == "10.0.0.8"
    db.session.rollback()  # the change it described did not happen: neither did the row
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    audit.record(None, "scheduler.tick", "system", None)
    db.session.commit()
    assert db.session.scalar(select(AuditEntry.actor_id)) is None


def test_admin_browses_and_filters(admin_client, admin, organizer):
    for object_id in (1, 2):
        audit.record(organizer, "event.publish", "event", object_id)
    audit.record(admin, "registration.approve", "registration", 7)
    db.session.commit()
    page = admin_client.get("/organizer/audit").get_data(as_text=True)
    assert "共 3 条" in page and "event.publish" in page and "registration.approve" in page
    page = admin_client.get("/organizer/audit?action=event.publish").get_data(as_text=True)
    assert "共 2 条" in page
    page = admin_client.get("/organizer/audit?object_type=event&object_id=2").get_data(as_text=True)
    assert "共 1 条" in page
    page = admin_client.get(f"/organizer/audit?actor_id={admin.id}").get_data(as_text=True)
    assert "共 1 条" in page
    page = admin_client.get("/organizer/audit?since=2000-01-01T00:00&until=2000-01-02T00:00&object_id=x").get_data(
        as_text=True
    )
    assert "共 0 条" in page


def test_staff_read_the_audit_trail_employees_do_not(organizer_client, employee_client, client):
    assert organizer_client.get("/organizer/audit").status_code == 200  # their subtree (test_audit_trail.py)
    assert employee_client.get("/organizer/audit").status_code == 403
    response = client.get("/organizer/audit")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_actions_are_audited_without_personal_data(organizer_client, organizer):
    event = factories.make_event(capacity=3, starts_in=factories.STARTS_SOON)
    person = factories.make_employee(name="欧阳娜娜", phone="13698765432")
    reg = book(person, event.slots[0])
    organizer_client.post(f"/organizer/registrations/{reg.id}/tags", data={"label": "志愿者"})
    organizer_client.post(
        f"/organizer/events/{event.id}/checkin/scan", json={"scan_id": "audit-scan-1", "code": reg.ticket_code}
    )
    organizer_client.post(f"/organizer/registrations/{reg.id}/undo-checkin")
    organizer_client.post(
        f"/organizer/events/{event.id}/message",
        data={"scope": "active", "title": "通知", "body": "明天见", "nonce": "n1n1n1"},
    )
    organizer_client.get(f"/organizer/events/{event.id}/export.xlsx")
    organizer_client.post(f"/organizer/events/{event.id}/cancel", data={"reason": "天气原因"})
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == [
        "roster.tag",
        "checkin",
        "checkin.undo",
        "roster.message",
        "roster.export",
        "event.cancel",
    ]
    assert all(e.actor_id == organizer.id and e.ip_address == "127.0.0.1" for e in entries)
    dumped = json.dumps([e.detail for e in entries], ensure_ascii=False)
    assert "欧阳娜娜" not in dumped and "13698765432" not in dumped and reg.ticket_code not in dumped


def test_an_organizer_action_records_the_requests_address(organizer_client, organizer):
    """The console's views pass no address: the request binds it for the audit (and only for that request)."""
    event = factories.make_event(capacity=3, starts_in=factories.STARTS_SOON)
    reg = book(factories.make_employee(), event.slots[0])
    organizer_client.post(
        f"/organizer/registrations/{reg.id}/tags", data={"label": "志愿者"}, environ_base={"REMOTE_ADDR": "10.20.30.40"}
    )
    organizer_client.get(f"/organizer/events/{event.id}/export.xlsx", environ_base={"REMOTE_ADDR": "10.20.30.41"})
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.actor_id, e.ip_address, e.origin) for e in entries] == [
        ("roster.tag", organizer.id, "10.20.30.40", "web"),
        ("roster.export", organizer.id, "10.20.30.41", "web"),
    ]


def test_acting_sets_the_context_for_a_block_only(organizer):
    with audit.acting(ip="10.0.0.9", origin="cli"):
        inside = audit.record(organizer, "event.create", "event", 1)
        with audit.acting(origin="scheduler"):
            nested = audit.record(None, "scheduler.tick", "system", None)
        after_nested = audit.record(organizer, "event.edit", "event", 1)
    outside = audit.record(organizer, "event.publish", "event", 1)
    assert (inside.ip_address, inside.origin) == ("10.0.0.9", "cli")
    assert (nested.ip_address, nested.origin) == (None, "scheduler")
    assert (after_nested.ip_address, after_nested.origin) == ("10.0.0.9", "cli")
    assert (outside.ip_address, outside.origin) == (None, None)


def test_deleting_the_actor_keeps_the_row(organizer):
    audit.record(organizer, "event.create", "event", 1)
    db.session.commit()
    db.session.delete(organizer)
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry))
    assert entry is not None and entry.actor_id is None and entry.action == "event.create"
