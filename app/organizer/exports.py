"""Roster exports: CSV (UTF-8 with BOM, so Excel opens Chinese correctly), XLSX and the sign-in sheet's rows.

Only the columns an organizer needs to run the event: no gender, age, marital status, health package or ticket
code. Every cell goes through the one formula guard (``app.spreadsheets.neutralise``), so a name like
``=HYPERLINK(...)`` opens as text.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING

from ..audit import AuditEntry
from ..audit import labels as audit_labels
from ..booking.labels import status_label
from ..events.models import Event
from ..spreadsheets import neutralise
from .rosters import RosterRow


@dataclass
class ExportRow:
    number: int
    name: str
    phone: str
    organization: str
    slot: str
    status: str
    checked_in: str
    tags: str

    def cells(self) -> list[str]:
        return [
            str(self.number),
            self.name,
            self.phone,
            self.organization,
            self.slot,
            self.status,
            self.checked_in,
            self.tags,
        ]


def headers() -> list[str]:
    return [_("序号"), _("姓名"), _("手机号"), _("所属工会"), _("场次"), _("状态"), _("签到时间"), _("标签")]


def slot_name(rowslot: object) -> str:
    label = getattr(rowslot, "label", "")
    starts = getattr(rowslot, "starts_at", None)
    when = starts.strftime("%m-%d %H:%M") if starts else ""
    return f"{label} {when}".strip()


def export_rows(rows: list[RosterRow]) -> list[ExportRow]:
    result = []
    for number, row in enumerate(rows, start=1):
        registration, user = row.registration, row.user
        result.append(
            ExportRow(
                number=number,
                name=user.name if user is not None else _("（已注销）"),
                phone=(user.phone or "") if user is not None else "",
                organization=user.organization.name if user is not None and user.organization is not None else "",
                slot=slot_name(registration.slot),
                status=str(status_label(registration.status)),
                checked_in=registration.checked_in_at.strftime("%Y-%m-%d %H:%M") if registration.checked_in_at else "",
                tags="、".join(tag.label for tag in row.tags),
            )
        )
    return result


def to_csv(rows: list[ExportRow]) -> bytes:
    """UTF-8 with a byte-order mark and CRLF line ends (what Excel expects), every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers()])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row.cells()])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(event: Event, rows: list[ExportRow]) -> bytes:
    """An XLSX workbook whose every cell is a string cell (never a formula), neutralised like the CSV."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("报名名单")
    for row_index, values in enumerate([headers(), *[row.cells() for row in rows]], start=1):
        for column_index, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_index, column=column_index)
            cell.value = neutralise(value)
            cell.data_type = TYPE_STRING
    for column, width in zip("ABCDEFGH", (6, 14, 14, 28, 18, 10, 18, 20), strict=True):
        sheet.column_dimensions[column].width = width
    workbook.properties.title = neutralise(event.title)[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def masked_phone(phone: str | None) -> str:
    """The sign-in sheet shows only the last four digits (it lies on a table at the door)."""
    if not phone:
        return ""
    return "*" * 7 + phone[-4:]


def audit_headers() -> list[str]:
    return [
        _("时间"),
        _("操作人编号"),
        _("操作人"),
        _("操作"),
        _("操作名称"),
        _("对象类型"),
        _("对象编号"),
        _("详情"),
        _("来源地址"),
        _("来源"),
    ]


def audit_csv(entries: list[AuditEntry]) -> bytes:
    """The audit rows as CSV for a spreadsheet (UTF-8 with a BOM, CRLF), every cell neutralised: a reason typed
    by an organizer is text, never a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in audit_headers()])
    for entry in entries:
        detail = " ".join(f"{key}={value}" for key, value in (entry.detail or {}).items())
        writer.writerow(
            [
                neutralise(cell)
                for cell in (
                    entry.at.strftime("%Y-%m-%d %H:%M:%S"),
                    entry.actor_id or "",
                    entry.actor.name if entry.actor is not None else "",
                    entry.action,
                    audit_labels.action_name(entry.action),
                    entry.object_type,
                    entry.object_id or "",
                    detail,
                    entry.ip_address or "",
                    entry.origin or "",
                )
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
