"""Turning an outbox row into words: subject, plain text, HTML and attachments, in the recipient's language.

Each message template is ``notifications/messages/<template>.txt`` with the blocks ``subject``, ``body``
(plain text; blank lines separate paragraphs) and optionally ``action`` (the label of the link). A row whose
template does not exist is rendered from its data: ``title``, ``body`` and ``link`` (a same-site path) — so
any feature can enqueue a message without writing a template. HTML mail wraps the same words in
``notifications/email.html``.

"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound

from ..accounts.models import User
from ..booking.ics import registration_ics
from ..booking.models import Registration
from ..extensions import db
from ..outbox.models import OutboxMessage

TEMPLATE_DIR = "notifications/messages"
GENERIC = "generic"


@dataclass
class Attachment:
    filename: str
    content: str
    mimetype: str  # e.g. "text/calendar"


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    link: str | None  # same-site path
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.text.split("\n\n") if part.strip()]


def path_for(endpoint: str, **values: Any) -> str:
    """A URL path built without a request (the scheduler has none). Paths without values are built once per
    app: every booking's messages link to the same page."""
    if values:
        return current_app.url_map.bind("localhost").build(endpoint, values)
    cache: dict[str, str] = current_app.extensions.setdefault("zhijia_paths", {})
    if endpoint not in cache:
        cache[endpoint] = current_app.url_map.bind("localhost").build(endpoint)
    return cache[endpoint]


def absolute(link: str | None) -> str | None:
    if not link:
        return None
    if urlsplit(link).scheme:
        return link
    return current_app.config["SERVER_BASE_URL"].rstrip("/") + link


def fmt(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%Y-%m-%d %H:%M")


def registration_facts(registration: Registration) -> dict[str, Any]:
    """What messages about a registration say about it (a snapshot stored with the row, refreshed at send)."""
    return {"registration_id": registration.id, **slot_facts(registration.slot)}


def slot_facts(slot: Any) -> dict[str, Any]:
    """What messages about a booking of ``slot`` say about the event and the time."""
    event = slot.event
    return {
        "event_id": event.id,
        "event_title": event.title,
        "slot_label": slot.label,
        "slot_start": slot.starts_at.isoformat(),
        "venue": event.venue or event.city.name,
        "link": path_for("booking.mine"),
    }


def _registration(message: OutboxMessage) -> Registration | None:
    registration_id = (message.data or {}).get("registration_id")
    if not registration_id:
        return None
    return db.session.get(Registration, int(registration_id))


def _block(template_name: str, block: str, context: dict[str, Any]) -> str:
    env = current_app.jinja_env
    template = env.get_template(template_name)
    if block not in template.blocks:
        return ""
    full = dict(current_app.jinja_env.globals)
    current_app.update_template_context(full)
    full.update(context)
    rendered = "".join(template.blocks[block](template.new_context(full)))
    return rendered.strip()


def render(message: OutboxMessage, user: User) -> Rendered:
    """Render ``message`` for ``user`` in their language. Registration messages read the registration as it is
    now (the event may have moved), falling back to the snapshot in the row's data."""
    data = dict(message.data or {})
    registration = _registration(message)
    if registration is not None:
        facts = registration_facts(registration)
        if data.get("link"):
            del facts["link"]  # a message that names its own page keeps it
        data.update(facts)
    context = {
        "data": data,
        "user": user,
        "fmt": fmt,
        "starts": fmt(data.get("slot_start")),
        "deadline": fmt(data.get("deadline")),
        "message": message,
    }
    name = f"{TEMPLATE_DIR}/{message.template}.txt"
    locale = user.locale if user.locale in current_app.config["LANGUAGES"] else "zh_CN"
    with force_locale(locale):
        try:
            current_app.jinja_env.get_template(name)
        except TemplateNotFound:
            name = f"{TEMPLATE_DIR}/{GENERIC}.txt"
        subject = " ".join(_block(name, "subject", context).split())
        text = _block(name, "body", context)
        action = _block(name, "action", context)
        link = data.get("link") or data.get("url")
        if link and not (str(link).startswith("/") and not str(link).startswith("//")):
            link = None  # only same-site paths become links
        rendered = Rendered(subject=subject, text=text, html="", link=link)
        rendered.html = render_template(
            "notifications/email.html",
            rendered=rendered,
            action=action,
            url=absolute(link),
            user=user,
            lang="zh-CN" if locale == "zh_CN" else "en",
        )
        if link and action:
            rendered.text += f"\n\n{action}：{absolute(link)}"
    if message.kind == "booking_confirmed" and registration is not None and message.channel == "email":
        host = urlsplit(current_app.config["SERVER_BASE_URL"]).hostname or "zhijia.local"
        rendered.attachments.append(
            Attachment(f"zhijia-{registration.id}.ics", registration_ics(registration, host), "text/calendar")
        )
    return rendered
