"""Employee pages for finding events: the list with filters and the event page with seats and eligibility."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, render_template, request, send_file
from flask_login import current_user

from ..orgs.services import all_cities
from ..webviews import me
from . import covers, pages, services
from .kinds import policy_for

bp = Blueprint("events", __name__, url_prefix="/events")


def _int_arg(name: str, default: int) -> int:
    try:
        return max(int(request.args.get(name, default)), 1)
    except (TypeError, ValueError):
        return default


@bp.get("/")
def index() -> str:
    date_text = request.args.get("from", "")
    try:
        on_or_after = datetime.fromisoformat(date_text) if date_text else None
    except ValueError:
        on_or_after = None
    filters = services.EventFilter(
        kind=request.args.get("kind") or None,
        city=request.args.get("city") or None,
        on_or_after=on_or_after,
        available_only=request.args.get("available") == "1",
        keyword=services.clean_keyword(request.args.get("q")),
        page=_int_arg("page", 1),
    )
    events, total = services.list_events(filters)
    pages = max((total + filters.per_page - 1) // filters.per_page, 1)
    return render_template(
        "events/index.html",
        events=events,
        total=total,
        filters=filters,
        pages=pages,
        date_text=date_text if on_or_after else "",
        cities=all_cities(),
        kinds=services.kind_choices(),
    )


@bp.get("/<int:event_id>")
def detail(event_id: int) -> str:
    event = services.get_published_event(event_id)
    viewer = me() if current_user.is_authenticated else None
    page = pages.event_page(event, viewer)
    return render_template("events/detail.html", event=event, page=page, kind_label=policy_for(event.kind).label)


@bp.get("/media/<filename>")
def media(filename: str) -> Response:
    """A cover picture's stored size. Names are content hashes, so a picture never changes: cached for a year."""
    path = covers.picture_path(filename)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
