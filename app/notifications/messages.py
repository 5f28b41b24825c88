"""Turning an outbox row into words: subject, plain text, HTML and attachments, in the recipient's language.

Each message template is ``notifications/messages/<template>.txt`` with the blocks ``subject``, ``body``
(plain text; blank lines separate paragraphs) and optionally ``action`` (the label of the link). A row whose
template does not exist is rendered from its data: ``title``, ``body`` and ``link`` (a same-site path) — so
any feature can enqueue a message without writing a template. HTML mail wraps the same words in
``notifications/email.html``.

"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from markupsafe import escape

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


# Where the person's name goes while a message is rendered for everyone it is the same for (``Renderer``). Free
# text never holds control characters (app/freetext.py), so no name can contain it.
NAME_SLOT = "\x00name\x00"
# Data that says which rows a message is about, never shown: rows differing only here read the same.
NOT_SHOWN = frozenset({"registration_id"})


@dataclass(frozen=True)
class Addressee:
    """What a message template reads of its recipient: the name, and nothing else personal — so one rendering
    serves everyone the same data is sent to, and a template cannot leak more than a greeting."""

    name: str


def _block(template_name: str, block: str, context: dict[str, Any]) -> str:
    template = current_app.jinja_env.get_template(template_name)
    if block not in template.blocks:
        return ""
    rendered = "".join(template.blocks[block](template.new_context(context)))
    return rendered.strip()


def _message_data(message: OutboxMessage, registration: Registration | None) -> dict[str, Any]:
    """The row's data, with what a registration says now (the event may have moved) over its snapshot."""
    data = dict(message.data or {})
    if registration is not None:
        facts = registration_facts(registration)
        if data.get("link"):
            del facts["link"]  # a message that names its own page keeps it
        data.update(facts)
    return data


def _words(template: str, data: dict[str, Any], locale: str) -> Rendered:
    """Subject, text and HTML of ``template`` with ``data`` in ``locale``, addressed to ``NAME_SLOT``."""
    context: dict[str, Any] = dict(current_app.jinja_env.globals)
    current_app.update_template_context(context)
    context.update(
        data=data,
        user=Addressee(NAME_SLOT),
        fmt=fmt,
        starts=fmt(data.get("slot_start")),
        deadline=fmt(data.get("deadline")),
    )
    name = f"{TEMPLATE_DIR}/{template}.txt"
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
            lang="zh-CN" if locale == "zh_CN" else "en",
        )
        if link and action:
            rendered.text += f"\n\n{action}：{absolute(link)}"
    return rendered


def _addressed(words: Rendered, name: str) -> Rendered:
    """``words`` with the person's name where ``NAME_SLOT`` stands (escaped in the HTML)."""
    return Rendered(
        subject=words.subject.replace(NAME_SLOT, name),
        text=words.text.replace(NAME_SLOT, name),
        html=words.html.replace(NAME_SLOT, str(escape(name))),
        link=words.link,
    )


class Renderer:
    """Renders the rows of a delivery batch: rows with the same template, language and shown data (a reminder to
    five hundred people of one event) are rendered once, and each person's name is filled in."""

    def __init__(self) -> None:
        self._words: dict[tuple[str, str, str], Rendered] = {}

    def render(self, message: OutboxMessage, user: User) -> Rendered:
        """``message`` for ``user`` in their language (zh_CN when theirs is not offered). Registration messages
        read the registration as it is now, falling back to the snapshot in the row's data; a confirmation by
        email carries the booking's calendar file."""
        registration = _registration(message)
        data = _message_data(message, registration)
        locale = user.locale if user.locale in current_app.config["LANGUAGES"] else "zh_CN"
        shown = {key: value for key, value in data.items() if key not in NOT_SHOWN}
        key = (message.template or message.kind, locale, json.dumps(shown, sort_keys=True, default=str))
        words = self._words.get(key)
        if words is None:
            words = self._words[key] = _words(key[0], data, locale)
        rendered = _addressed(words, user.name or "")
        if message.kind == "booking_confirmed" and registration is not None and message.channel == "email":
            host = urlsplit(current_app.config["SERVER_BASE_URL"]).hostname or "zhijia.local"
            rendered.attachments.append(
                Attachment(f"zhijia-{registration.id}.ics", registration_ics(registration, host), "text/calendar")
            )
        return rendered


def render(message: OutboxMessage, user: User) -> Rendered:
    """One message for one person (``Renderer`` for a batch)."""
    return Renderer().render(message, user)
