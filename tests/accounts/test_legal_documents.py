"""The privacy policy and the user agreement (issue 22): both languages, linked from every page, accepted at
sign-up with the version and time recorded, accepted again at the next sign-in after a new version, listed on the
consents page and in the person's own-data export."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app import clock
from app.accounts import legal
from app.accounts.phone_models import DocumentAcceptance
from app.extensions import db

from .. import factories
from ..sms_codes import documents_accepted, with_code
from .test_auth import REGISTRATION

MOMENT = datetime(2026, 12, 20, 9, 30)


@pytest.fixture(autouse=True)
def frozen():
    clock.set_now(MOMENT)
    yield
    clock.set_now(None)


@pytest.fixture
def new_versions(monkeypatch):
    """Publish a 2027-03 version of both documents (its text reuses the 2026-12 templates)."""
    published = {}
    for code, doc in legal.DOCUMENTS.items():
        newer = legal.LegalDocument(
            code=doc.code,
            title=doc.title,
            versions=(*doc.versions, legal.DocumentVersion("2027-03", date(2027, 3, 1))),
        )
        published[code] = newer
    monkeypatch.setattr(legal, "DOCUMENTS", published)
    monkeypatch.setattr(
        legal.LegalDocument, "template", lambda self, version, locale: f"legal/{self.code}/2026-12.zh_CN.html"
    )
    return published


def _accepted(user_id: int) -> dict[str, tuple[str, datetime]]:
    rows = db.session.scalars(select(DocumentAcceptance).where(DocumentAcceptance.user_id == user_id)).all()
    return {row.document: (row.version, row.accepted_at) for row in rows}


def test_both_documents_in_both_languages_and_linked_from_every_page(client):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/legal/privacy"' in home and 'href="/legal/terms"' in home
    policy = client.get("/legal/privacy").get_data(as_text=True)
    for needed in ("我们收集的信息", "使用目的", "保存期限", "您的权利", "联系我们", "privacy@zhijia.local"):
        assert needed in policy
    assert "活动结束 3 年后" in policy and "站内消息：365 天" in policy  # the retention settings in force
    client.post("/lang", data={"lang": "en", "next": "/legal/privacy"})
    english = client.get("/legal/privacy").get_data(as_text=True)
    assert "What we collect" in english and "Your rights" in english and "3 years after the event" in english
    assert "User Agreement" in client.get("/legal/terms").get_data(as_text=True)
    assert client.get("/legal/privacy/1999-01").status_code == 404
    assert client.get("/legal/cookies").status_code == 404


def test_registration_records_the_versions_and_time_accepted(client):
    data = with_code(client, REGISTRATION)
    refused = client.post("/account/register", data={**data, "accept_documents": ""})
    assert "请阅读并同意《用户协议》和《隐私政策》。" in refused.get_data(as_text=True)
    assert client.post("/account/register", data=data).status_code == 302
    user = factories.accounts.find_by_phone(REGISTRATION["phone"])
    assert _accepted(user.id) == {"terms": ("2026-12", MOMENT), "privacy": ("2026-12", MOMENT)}


def test_a_page_shown_before_a_new_version_was_published_is_not_taken_as_acceptance(client, new_versions):
    data = with_code(client, REGISTRATION)
    assert data["privacy_version"] == "2027-03"
    stale = {**data, "terms_version": "2026-12", "privacy_version": "2026-12"}
    page = client.post("/account/register", data=stale).get_data(as_text=True)
    assert "刚刚更新" in page and factories.accounts.find_by_phone(REGISTRATION["phone"]) is None


def test_a_new_version_is_accepted_at_the_next_sign_in(app, employee, new_versions):
    db.session.add(DocumentAcceptance(user_id=employee.id, document="privacy", version="2026-12", accepted_at=MOMENT))
    db.session.add(DocumentAcceptance(user_id=employee.id, document="terms", version="2026-12", accepted_at=MOMENT))
    db.session.commit()
    client = app.test_client()
    response = client.post("/account/login", data={"phone": employee.phone, "password": factories.PASSWORD})
    assert response.status_code == 302 and "/legal/accept" in response.headers["Location"]
    # Every page leads to the acceptance page until the person accepts; the documents stay readable.
    blocked = client.get("/me/bookings")
    assert blocked.status_code == 302 and "/legal/accept" in blocked.headers["Location"]
    assert client.get("/legal/privacy").status_code == 200
    page = client.get("/legal/accept").get_data(as_text=True)
    assert "《隐私政策》" in page and "2027-03" in page
    assert client.post("/legal/accept?next=/me/bookings", data={}).status_code == 200  # not ticked: nothing
    accepted = client.post("/legal/accept?next=/me/bookings", data=documents_accepted())
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith("/me/bookings")
    assert client.get("/me/bookings").status_code == 200
    assert _accepted(employee.id)["privacy"] == ("2027-03", MOMENT)
    # The next sign-in goes straight in.
    again = app.test_client().post("/account/login", data={"phone": employee.phone, "password": factories.PASSWORD})
    assert "/legal/accept" not in again.headers["Location"]


def test_up_to_date_people_are_not_asked_again(app, employee):
    legal.accept_documents(employee, legal.current_versions())
    db.session.commit()
    response = app.test_client().post("/account/login", data={"phone": employee.phone, "password": factories.PASSWORD})
    assert "/legal/accept" not in response.headers["Location"]


def test_consents_page_and_export_show_the_versions_accepted(employee_client, employee):
    legal.accept_documents(employee, legal.current_versions())
    db.session.commit()
    page = employee_client.get("/privacy/consents").get_data(as_text=True)
    assert "用户协议与隐私政策" in page and "2026-12 版" in page
    assert 'href="/legal/privacy"' in page
    export = employee_client.get("/privacy/export.json").get_json()
    documents = {row["document"]: row for row in export["documents"]}
    assert documents["privacy"]["version"] == "2026-12" and documents["privacy"]["accepted_at"].startswith("2026-12-20")
    assert documents["terms"]["version"] == "2026-12"
