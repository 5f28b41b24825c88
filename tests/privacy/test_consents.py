"""My consents: every purpose with its notice and version; withdrawing is one tap and cancels what needed it."""

from app.accounts import services as accounts
from app.accounts.consents import HEALTH_SCREENING, MIXER_SIGNUP, PURPOSES
from app.accounts.models import Consent
from app.booking.models import Status
from app.extensions import db

from .. import factories
from .factories import book, consent_kind


def test_page_lists_every_purpose_with_notice_version_and_state(employee_client, employee):
    accounts.grant_consent(employee, MIXER_SIGNUP)
    db.session.commit()
    page = employee_client.get("/privacy/consents").get_data(as_text=True)
    for purpose in PURPOSES.values():
        assert str(purpose.title) in page
        assert str(purpose.notice)[:30] in page
        assert purpose.version in page
    assert "已同意" in page and "撤回同意" in page
    assert str(PURPOSES[MIXER_SIGNUP].withdraw_effect) in page
    # The purpose not granted offers its own unticked box.
    assert 'id="agree-health_screening"' in page
    assert 'id="agree-health_screening" checked' not in page


def test_profile_links_to_the_consents_page(employee_client):
    page = employee_client.get("/account/profile").get_data(as_text=True)
    assert 'href="/privacy/consents"' in page
    assert 'href="/privacy/export"' in page


def test_one_tap_withdraw_cancels_future_bookings_that_needed_it(employee_client, employee):
    with consent_kind() as kind:
        event = factories.make_event(kind=kind, capacity=1)
        other = factories.make_event(title="普通活动")
        registration = book(employee, event, consents=[MIXER_SIGNUP])
        unrelated = book(employee, other)
        waiting = factories.make_employee()
        queued = book(waiting, event, consents=[MIXER_SIGNUP])
        assert queued.status == Status.WAITLISTED

        response = employee_client.post(f"/privacy/consents/{MIXER_SIGNUP}/withdraw")
        assert response.status_code == 302
        page = employee_client.get("/privacy/consents").get_data(as_text=True)
        assert "已撤回同意，并取消了 1 项相关报名。" in page
        db.session.refresh(registration)
        db.session.refresh(unrelated)
        db.session.refresh(queued)
        assert registration.status == Status.CANCELLED
        assert unrelated.status == Status.CONFIRMED
        assert queued.status == Status.OFFERED  # the freed seat went to the waitlist
        assert not accounts.has_consent(employee.id, MIXER_SIGNUP)
        assert "已撤回" in page and "重新同意" in page


def test_regrant_needs_the_box_ticked_and_records_current_version(employee_client, employee):
    refused = employee_client.post(f"/privacy/consents/{HEALTH_SCREENING}/grant", data={})
    assert refused.status_code == 302
    assert not accounts.has_consent(employee.id, HEALTH_SCREENING)
    employee_client.post(f"/privacy/consents/{HEALTH_SCREENING}/grant", data={"agree": "y"})
    assert accounts.has_consent(employee.id, HEALTH_SCREENING)
    employee_client.post(f"/privacy/consents/{HEALTH_SCREENING}/withdraw")
    employee_client.post(f"/privacy/consents/{HEALTH_SCREENING}/grant", data={"agree": "y"})
    rows = db.session.scalars(db.select(Consent).where(Consent.user_id == employee.id)).all()
    assert len(rows) == 2
    assert sum(1 for row in rows if row.withdrawn_at is None) == 1
    assert all(row.notice_version == PURPOSES[HEALTH_SCREENING].version for row in rows)


def test_outdated_version_must_be_agreed_again(employee_client, employee, monkeypatch):
    accounts.grant_consent(employee, MIXER_SIGNUP)
    db.session.commit()
    newer = PURPOSES[MIXER_SIGNUP].__class__(**{**PURPOSES[MIXER_SIGNUP].__dict__, "version": "2027-01"})
    monkeypatch.setitem(PURPOSES, MIXER_SIGNUP, newer)
    page = employee_client.get("/privacy/consents").get_data(as_text=True)
    assert "说明已更新，需重新确认" in page
    assert f'action="/privacy/consents/{MIXER_SIGNUP}/withdraw"' in page, "an outdated consent can still be withdrawn"
    employee_client.post(f"/privacy/consents/{MIXER_SIGNUP}/grant", data={"agree": "y"})
    assert accounts.has_consent(employee.id, MIXER_SIGNUP)


def test_unknown_purpose_answers_404_and_changes_nothing(employee_client, employee):
    assert employee_client.post("/privacy/consents/marketing/grant", data={"agree": "y"}).status_code == 404
    assert employee_client.post("/privacy/consents/marketing/withdraw").status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(Consent)) == 0


def test_pages_need_login(client):
    for url in ("/privacy/consents", "/privacy/export", "/privacy/export.json", "/privacy/delete"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_withdraw_needs_csrf(app, employee):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        page = client.get("/account/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/account/login", data={"phone": employee.phone, "password": factories.PASSWORD, "csrf_token": token}
        )
        accounts.grant_consent(employee, MIXER_SIGNUP)
        db.session.commit()
        response = client.post(f"/privacy/consents/{MIXER_SIGNUP}/withdraw")
        assert response.status_code == 400
        assert accounts.has_consent(employee.id, MIXER_SIGNUP)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
