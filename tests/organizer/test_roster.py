"""Rosters: search and filters, approve / reject / promote, add by phone, move, tags, bulk messages, IDOR."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.audit import AuditEntry
from app.booking.models import Registration, Status
from app.events.models import Allocation, Slot
from app.extensions import db
from app.organizer.models import RosterTag
from app.orgs.models import OrgLevel
from app.outbox.models import OutboxMessage

from .. import factories
from .factories import book


def _status(registration: Registration) -> Status:
    db.session.refresh(registration)
    return registration.status


def test_roster_search_and_filters(organizer_client):
    event = factories.make_event(capacity=3)
    slot = event.slots[0]
    company = factories.make_org("jx-nanchang", OrgLevel.ENTERPRISE, name="江铃汽车工会")
    li = factories.make_employee(name="李娜", phone="13911112222", organization=company)
    zhang = factories.make_employee(name="张伟", gender="male")
    wang = factories.make_employee(name="王芳")
    late = factories.make_employee(name="赵敏")
    for person in (li, zhang, wang, late):
        book(person, slot)
    tagged = db.session.scalar(select(Registration).where(Registration.user_id == wang.id))
    db.session.add(RosterTag(registration_id=tagged.id, event_id=event.id, label="志愿者"))  # type: ignore[union-attr]
    db.session.commit()
    url = f"/organizer/events/{event.id}/roster"

    def names(**filters: str) -> set[str]:
        page = organizer_client.post(url, data=filters).get_data(as_text=True)
        return {n for n in ("李娜", "张伟", "王芳", "赵敏") if f">{n}</a>" in page}

    assert names() == {"李娜", "张伟", "王芳", "赵敏"}
    assert names(q="李") == {"李娜"}
    assert names(q="1111 2222") == {"李娜"}  # digits of the phone
    assert names(status="waitlisted") == {"赵敏"}
    assert names(gender="male") == {"张伟"}
    assert names(org=str(company.id)) == {"李娜"}
    assert names(tag="志愿者") == {"王芳"}
    assert names(slot=str(slot.id), status="confirmed") == {"李娜", "张伟", "王芳"}
    # Counts at a glance.
    page = organizer_client.get(url).get_data(as_text=True)
    assert "显示 4 人" in page


def test_a_registrations_history_reads_in_words_with_the_organizers_own_reasons(organizer_client, organizer):
    event = factories.make_event(capacity=1, allocation=Allocation.APPROVAL)
    slot = event.slots[0]
    approved, rejected = factories.make_employee(), factories.make_employee()
    ra, rr = book(approved, slot), book(rejected, slot)
    organizer_client.post(f"/organizer/registrations/{ra.id}/approve")
    organizer_client.post(f"/organizer/registrations/{rr.id}/reject", data={"reason": "不属于本市职工"})
    organizer_client.post(f"/organizer/registrations/{ra.id}/cancel", data={"reason": "本人电话申请取消"})

    page = organizer_client.get(f"/organizer/registrations/{ra.id}").get_data(as_text=True)
    history = page.split('class="org-history"', 1)[1]
    assert "本人报名" in history and "审核通过" in history and "取消报名" in history
    assert "（本人电话申请取消）" in history  # the organizer's words, for whoever reads the record next
    assert "booked" not in history and "approved" not in history  # no engine notes in English
    page = organizer_client.get(f"/organizer/registrations/{rr.id}").get_data(as_text=True)
    assert "审核未通过" in page and "（不属于本市职工）" in page


def test_approve_reject_with_reason_and_promote(organizer_client, organizer):
    event = factories.make_event(capacity=1, allocation=Allocation.APPROVAL)
    slot = event.slots[0]
    a, b, c = (factories.make_employee() for _ in range(3))
    ra, rb, rc = book(a, slot), book(b, slot), book(c, slot)
    assert ra.status == rb.status == rc.status == Status.PENDING

    assert organizer_client.post(f"/organizer/registrations/{ra.id}/approve").status_code == 302
    assert _status(ra) == Status.CONFIRMED
    assert organizer_client.post(f"/organizer/registrations/{rb.id}/approve").status_code == 302
    assert _status(rb) == Status.WAITLISTED  # no seat left: the waitlist

    # Rejecting needs a reason the person will see.
    organizer_client.post(f"/organizer/registrations/{rc.id}/reject", data={"reason": "  "})
    assert _status(rc) == Status.PENDING
    organizer_client.post(f"/organizer/registrations/{rc.id}/reject", data={"reason": "不属于本市职工"})
    assert _status(rc) == Status.REJECTED
    assert rc.history[-1].reason == "不属于本市职工"

    # Promote needs a free seat: refused while full, done once a seat frees.
    response = organizer_client.post(f"/organizer/registrations/{rb.id}/promote", follow_redirects=True)
    assert "名额已满" in response.get_data(as_text=True)
    assert _status(rb) == Status.WAITLISTED
    slot_row = db.session.get(Slot, slot.id)
    slot_row.capacity = 2  # type: ignore[union-attr]
    db.session.commit()
    assert organizer_client.post(f"/organizer/registrations/{rb.id}/promote").status_code == 302
    assert _status(rb) == Status.CONFIRMED
    decided = select(AuditEntry.action).where(AuditEntry.action.notlike("view.%")).order_by(AuditEntry.id)
    actions = list(db.session.scalars(decided))
    assert actions == ["registration.approve", "registration.approve", "registration.reject", "registration.promote"]
    assert all(e.actor_id == organizer.id for e in db.session.scalars(select(AuditEntry)))


def test_add_person_by_phone_same_rules_as_booking(organizer_client):
    event = factories.make_event(capacity=1, min_age=18, max_age=35, signup_open=False)
    slot_id = event.slots[0].id
    url = f"/organizer/events/{event.id}/add-person"
    young = factories.make_employee(age=28, name="小周")
    old = factories.make_employee(age=50)
    second = factories.make_employee(age=30)

    response = organizer_client.post(url, data={"slot": slot_id, "phone": young.phone}, follow_redirects=True)
    assert "已为该职工报名" in response.get_data(as_text=True)  # outside the sign-up window: still allowed
    reg = db.session.scalar(select(Registration).where(Registration.user_id == young.id))
    assert reg is not None and reg.status == Status.CONFIRMED

    response = organizer_client.post(url, data={"slot": slot_id, "phone": old.phone}, follow_redirects=True)
    assert "不符合报名条件" in response.get_data(as_text=True)
    response = organizer_client.post(url, data={"slot": slot_id, "phone": young.phone}, follow_redirects=True)
    assert "已报名" in response.get_data(as_text=True)
    response = organizer_client.post(url, data={"slot": slot_id, "phone": "13000000000"}, follow_redirects=True)
    assert "没有找到该手机号的职工账号" in response.get_data(as_text=True)
    response = organizer_client.post(url, data={"slot": slot_id, "phone": "abc"}, follow_redirects=True)
    assert "请输入 11 位中国大陆手机号" in response.get_data(as_text=True)
    # Capacity holds: the next one joins the waitlist.
    organizer_client.post(url, data={"slot": slot_id, "phone": second.phone})
    reg2 = db.session.scalar(select(Registration).where(Registration.user_id == second.id))
    assert reg2 is not None and reg2.status == Status.WAITLISTED
    db.session.refresh(event.slots[0])
    assert event.slots[0].taken == 1
    assert db.session.scalar(select(func.count()).select_from(Registration).where(Registration.user_id == old.id)) == 0


def test_add_person_to_another_events_slot_is_404(organizer_client):
    event = factories.make_event()
    other = factories.make_event(title="另一个活动")
    person = factories.make_employee()
    response = organizer_client.post(
        f"/organizer/events/{event.id}/add-person", data={"slot": other.slots[0].id, "phone": person.phone}
    )
    assert response.status_code == 302  # not a choice of this event's form: refused with a message
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_move_between_slots(organizer_client):
    event = factories.make_event(capacity=1, slots=2)
    first, second = event.slots
    person, other = factories.make_employee(), factories.make_employee()
    reg = book(person, first)
    book(other, second)
    response = organizer_client.post(
        f"/organizer/registrations/{reg.id}/move", data={"slot": second.id}, follow_redirects=True
    )
    assert "名额已满" in response.get_data(as_text=True)
    db.session.refresh(reg)
    assert reg.slot_id == first.id
    db.session.get(Slot, second.id).capacity = 2  # type: ignore[union-attr]
    db.session.commit()
    organizer_client.post(f"/organizer/registrations/{reg.id}/move", data={"slot": second.id})
    db.session.refresh(reg)
    assert reg.slot_id == second.id
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.taken, second.taken) == (0, 2)
    other_event = factories.make_event(title="别的活动")
    response = organizer_client.post(f"/organizer/registrations/{reg.id}/move", data={"slot": other_event.slots[0].id})
    assert response.status_code == 404


def test_tags_single_and_bulk(organizer_client):
    event = factories.make_event(capacity=5)
    regs = [book(factories.make_employee(), event.slots[0]) for _ in range(3)]
    organizer_client.post(f"/organizer/registrations/{regs[0].id}/tags", data={"label": "需接送"})
    organizer_client.post(f"/organizer/registrations/{regs[0].id}/tags", data={"label": "需接送"})  # once only
    organizer_client.post(f"/organizer/registrations/{regs[0].id}/tags", data={"label": "x" * 30})  # too long
    response = organizer_client.post(
        f"/organizer/events/{event.id}/tags", data={"ids": [regs[1].id, regs[2].id], "label": "志愿者"}
    )
    assert response.status_code == 302
    tags = sorted((t.registration_id, t.label) for t in db.session.scalars(select(RosterTag)))
    assert tags == sorted([(regs[0].id, "需接送"), (regs[1].id, "志愿者"), (regs[2].id, "志愿者")])
    tag = db.session.scalar(select(RosterTag).where(RosterTag.registration_id == regs[0].id))
    assert organizer_client.post(f"/organizer/tags/{tag.id}/delete").status_code == 302  # type: ignore[union-attr]
    assert db.session.scalar(select(func.count()).select_from(RosterTag)) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "roster.tag")) == 2


def test_bulk_message_through_the_outbox_once_per_form(organizer_client):
    event = factories.make_event(capacity=5)
    regs = [book(factories.make_employee(), event.slots[0]) for _ in range(3)]
    stranger = book(factories.make_employee(), factories.make_event(title="别的活动").slots[0])
    form = {
        "scope": "selected",
        "ids": [regs[0].id, regs[1].id, stranger.id],
        "title": "集合时间调整",
        "body": "请于 13:30 在南门集合。",
        "nonce": "abc123nonce",
    }
    assert organizer_client.post(f"/organizer/events/{event.id}/message", data=form).status_code == 302
    organizer_client.post(f"/organizer/events/{event.id}/message", data=form)  # double submit
    sent = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "organizer_message")))
    assert sorted({m.user_id for m in sent}) == sorted([regs[0].user_id, regs[1].user_id])
    assert len(sent) == len({(m.user_id, m.channel) for m in sent})
    assert sent[0].data["body"] == "请于 13:30 在南门集合。"
    # "All active" reaches everyone in the event, not the stranger.
    form.update(scope="active", nonce="second-message", ids=[])
    organizer_client.post(f"/organizer/events/{event.id}/message", data=form)
    second = db.session.scalars(
        select(OutboxMessage.user_id).where(OutboxMessage.idempotency_key.contains("second-message"))
    ).all()
    assert sorted(set(second)) == sorted(r.user_id for r in regs)
    # Nobody chosen: refused with a message.
    form.update(scope="selected", nonce="third", ids=[])
    response = organizer_client.post(f"/organizer/events/{event.id}/message", data=form, follow_redirects=True)
    assert "请至少选择一位收件人" in response.get_data(as_text=True)


def test_idor_across_organizations_answers_404_and_changes_nothing(login_client):
    event = factories.make_event(capacity=1, allocation=Allocation.APPROVAL)
    reg = book(factories.make_employee(), event.slots[0])
    tag = RosterTag(registration_id=reg.id, event_id=event.id, label="志愿者")
    db.session.add(tag)
    db.session.commit()
    outsider = login_client(factories.make_organizer("jx-jiujiang"))
    for method, url in [
        ("get", f"/organizer/events/{event.id}"),
        ("get", f"/organizer/events/{event.id}/roster"),
        ("get", f"/organizer/events/{event.id}/export.csv"),
        ("get", f"/organizer/registrations/{reg.id}"),
        ("post", f"/organizer/registrations/{reg.id}/approve"),
        ("post", f"/organizer/registrations/{reg.id}/reject"),
        ("post", f"/organizer/events/{event.id}/cancel"),
        ("post", f"/organizer/tags/{tag.id}/delete"),
        ("post", f"/organizer/events/{event.id}/checkin/scan"),
    ]:
        response = getattr(outsider, method)(url, data={"reason": "越权尝试"})
        assert response.status_code == 404, (method, url, response.status_code)
    assert _status(reg) == Status.PENDING
    assert db.session.scalar(select(func.count()).select_from(RosterTag)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    # A county union below Nanchang cannot see its parent's event either.
    county = factories.make_org("jx-nanchang", OrgLevel.COUNTY)
    below = login_client(factories.make_organizer(county.code))
    assert below.get(f"/organizer/events/{event.id}").status_code == 404


def test_organizer_cancels_one_registration_with_a_reason_after_the_deadline(organizer_client):
    from app import clock

    event = factories.make_event(capacity=1, cancel_deadline=clock.now() - timedelta(hours=1))
    seated = book(factories.make_employee(), event.slots[0])
    waiting = book(factories.make_employee(), event.slots[0])
    url = f"/organizer/registrations/{seated.id}/cancel"
    response = organizer_client.post(url, data={"reason": ""}, follow_redirects=True)
    assert "请填写取消原因" in response.get_data(as_text=True)
    assert _status(seated) == Status.CONFIRMED
    organizer_client.post(url, data={"reason": "本人电话申请取消"})
    assert _status(seated) == Status.CANCELLED
    assert _status(waiting) == Status.OFFERED  # the freed seat moves the waitlist
    page = organizer_client.get(f"/organizer/registrations/{seated.id}").get_data(as_text=True)
    assert "本人电话申请取消" in page  # the history shows why
