"""No mass assignment: role, organization and status fields posted to every form and JSON endpoint change
nothing they name. POST rules come from app.url_map, so later forms are covered."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.booking.models import Registration, Status
from app.events.models import Event, Slot
from app.extensions import db
from app.orgs.services import get_by_code

from .. import factories
from ..sms_codes import with_code
from .world import build_world, fill, rules

SKIP = {"accounts.logout", "web.switch_language", "privacy.delete"}


def injected(world) -> dict:
    other_org = get_by_code("jx-ganzhou")
    return {
        "role": "admin",
        "is_admin": "y",
        "organization_id": str(other_org.id),
        "organization": other_org.code,
        "status": "attended",
        "user_id": str(world.victim.id),
        "is_active_account": "y",
        "deleted_at": "",
        "model_worker": "y",
        "taken": "0",
        "capacity": "99999",
        "published": "y",
        "phone": world.victim.phone,
    }


def _state(user_id: int):
    user = db.session.get(User, user_id)
    return (user.role, user.organization_id, user.phone, user.profile.model_worker if user.profile else None)


@pytest.mark.parametrize("role", ["employee", "organizer"])
def test_injected_fields_change_nothing(app, role):
    world = build_world()
    actor = world.attacker if role == "employee" else world.organizer
    client = app.test_client()
    factories.login(client, actor)
    token = factories.api_token(actor)
    fields = injected(world)
    before = _state(actor.id)
    victim_before = _state(world.victim.id)
    victim_status = world.victim_registration.status
    events_outside = db.session.scalar(
        select(func.count()).select_from(Event).where(Event.organization_id == get_by_code("jx-ganzhou").id)
    )
    posted = 0
    for rule in rules(app, "POST"):
        if rule.endpoint in SKIP:
            continue
        url = fill(rule, world, foreign=False)
        if url is None:
            continue
        if url.startswith("/api/"):
            response = client.post(url, json=fields, headers={"Authorization": f"Bearer {token}"})
        else:
            response = client.post(url, data=fields)
        assert response.status_code < 500, url
        posted += 1
        db.session.expire_all()
        assert _state(actor.id) == before, url
        assert _state(world.victim.id) == victim_before, url
        assert db.session.get(Registration, world.victim_registration.id).status == victim_status, url
        assert db.session.scalar(select(func.count()).select_from(Slot).where(Slot.capacity == 99999)) == 0, url
        assert (
            db.session.scalar(
                select(func.count()).select_from(Registration).where(Registration.status == Status.ATTENDED)
            )
            == 0
        ), url
        assert (
            db.session.scalar(
                select(func.count()).select_from(Event).where(Event.organization_id == get_by_code("jx-ganzhou").id)
            )
            == events_outside
        ), url
    assert posted >= 5
    assert db.session.get(User, actor.id).role in (Role.EMPLOYEE, Role.ORGANIZER)


def test_registration_ignores_role_and_organization(client):
    data = {
        "phone": "13912399999",
        "password": "ganjiang-river-7",
        "password_confirm": "ganjiang-river-7",
        "name": "新职工",
        "gender": "male",
        "birth_date": "1992-03-04",
        "city": "nanchang",
        "employer": "南昌厂",
        "enterprise_type": "non_public",
        "industry": "",
        "role": "admin",
        "organization_id": "1",
        "model_worker": "y",
        "is_active_account": "",
        "deleted_at": "2020-01-01",
    }
    assert client.post("/account/register", data={**with_code(client, data), **data}).status_code == 302
    user = db.session.scalar(select(User).where(User.phone == "13912399999"))
    assert user.role == Role.EMPLOYEE and user.organization_id is None
    assert not user.profile.model_worker and user.deleted_at is None and user.is_active_account
