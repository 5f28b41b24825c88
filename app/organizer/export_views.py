"""The organizer console's exports and audit trail (on the ``organizer`` blueprint): an event's roster as CSV,
Excel or a printable sign-in sheet, and the audit trail (admins: everything; organizers: their subtree without the
view.* rows) as a page or CSV. Every export is itself audited."""

from __future__ import annotations

from flask import Response, render_template, request

from .. import audit, clock
from ..booking.models import Status
from ..events.models import Event
from ..extensions import db
from ..webviews import me
from . import access, exports, rosters
from .views import bp, int_arg, organizer_required, parse_when, roster_filter

# --- exports --------------------------------------------------------------------------------------------------


def _export_rows(found: Event) -> list[exports.ExportRow]:
    filters = roster_filter()
    return exports.export_rows(rosters.roster(me(), found, filters, limit=100_000))


def _filename(found: Event, ext: str) -> str:
    return f"roster-{found.id}-{clock.today():%Y%m%d}.{ext}"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    """A file the browser saves as ``filename`` rather than shows."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/events/<int:event_id>/export.csv")
@organizer_required
def export_csv(event_id: int) -> Response:
    found = access.get_event(me(), event_id)
    rows = _export_rows(found)
    rosters.record_export(me(), found, "csv", len(rows))
    db.session.commit()
    return _download(exports.to_csv(rows), "text/csv", _filename(found, "csv"))


@bp.get("/events/<int:event_id>/export.xlsx")
@organizer_required
def export_xlsx(event_id: int) -> Response:
    found = access.get_event(me(), event_id)
    rows = _export_rows(found)
    rosters.record_export(me(), found, "xlsx", len(rows))
    db.session.commit()
    return _download(exports.to_xlsx(found, rows), XLSX, _filename(found, "xlsx"))


@bp.get("/events/<int:event_id>/signin-sheet")
@organizer_required
def signin_sheet(event_id: int) -> str:
    found = access.get_event(me(), event_id)
    rows = [
        row
        for row in rosters.roster(me(), found, rosters.RosterFilter(slot_id=int_arg("slot")), limit=100_000)
        if row.registration.status in (Status.CONFIRMED, Status.ATTENDED, Status.OFFERED)
    ]
    rosters.record_export(me(), found, "signin_sheet", len(rows))
    db.session.commit()
    return render_template("organizer/signin_sheet.html", event=found, rows=rows, masked=exports.masked_phone)


# --- audit trail (admins: everything; organizers: their subtree without the view.* rows) -----------------------


def _audit_filter() -> audit.AuditFilter:
    return audit.AuditFilter(
        action=(request.args.get("action") or "")[:40] or None,
        object_type=(request.args.get("object_type") or "")[:40] or None,
        object_id=int_arg("object_id"),
        actor_id=int_arg("actor_id"),
        since=parse_when(request.args.get("since")),
        until=parse_when(request.args.get("until")),
        page=min(int_arg("page") or 1, 100_000),
    )


@bp.get("/audit")
@organizer_required
def audit_log() -> str:
    filters = _audit_filter()
    entries, total = access.audit_trail(me(), filters)
    pages = max((total + filters.per_page - 1) // filters.per_page, 1)
    return render_template(
        "organizer/audit.html",
        entries=entries,
        total=total,
        filters=filters,
        pages=pages,
        actions=audit.actions(me()),
    )


@bp.get("/audit.csv")
@organizer_required
def audit_csv() -> Response:
    entries = access.export_audit_trail(me(), _audit_filter())
    db.session.commit()  # the export is itself audited
    return _download(exports.audit_csv(entries), "text/csv", f"audit-{clock.today():%Y%m%d}.csv")
