"""Organizer services for roster tags: the labels an organizer puts on registrations of an event (add, remove,
list), with the free-text rule on labels.

Every function checks the actor's scope itself and audits what it changes. Functions flush but never commit.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import delete, select

from .. import audit
from ..accounts.models import User
from ..accounts.scope import require_manages
from ..booking.models import Registration
from ..errors import InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db
from ..freetext import TextRefused, clean_text
from .access import get_event, require_organizer
from .models import RosterTag

MAX_TAG_LENGTH = 20


def get_tag(actor: User, tag_id: int) -> RosterTag:
    """A tag on an event the actor manages; any other id answers NotFound."""
    require_organizer(actor)
    tag = db.session.get(RosterTag, tag_id)
    if tag is None:
        raise NotFound()
    get_event(actor, tag.event_id)
    return tag


def tags_by_registration(registration_ids: list[int]) -> dict[int, list[RosterTag]]:
    """The tags of each of these registrations, by label (callers have checked the scope of the registrations)."""
    if not registration_ids:
        return {}
    result: dict[int, list[RosterTag]] = {}
    for tag in db.session.scalars(
        select(RosterTag).where(RosterTag.registration_id.in_(registration_ids)).order_by(RosterTag.label)
    ):
        result.setdefault(tag.registration_id, []).append(tag)
    return result


def event_tags(event: Event) -> list[str]:
    """The distinct labels used on an event's roster, for the tag filter."""
    return list(
        db.session.scalars(
            select(RosterTag.label).where(RosterTag.event_id == event.id).distinct().order_by(RosterTag.label)
        )
    )


def _clean_label(label: str) -> str:
    try:
        label = re.sub(r"\s+", " ", clean_text(label or "", max_length=MAX_TAG_LENGTH))
    except TextRefused as refused:
        raise InvalidInput(refused.message, fields={"label": [refused.message]}) from None
    if not label:
        raise InvalidInput(
            _("标签不能为空，且不超过 %(n)d 个字。", n=MAX_TAG_LENGTH),
            fields={"label": [_("标签不能为空，且不超过 %(n)d 个字。", n=MAX_TAG_LENGTH)]},
        )
    return label


def add_tag(actor: User, registrations: list[Registration], label: str) -> int:
    """Put a tag on registrations of one event in the actor's subtree; a tag already there is left alone.
    Returns how many were newly tagged."""
    label = _clean_label(label)
    added = 0
    for registration in registrations:
        require_manages(actor, registration.slot.event.organization)
        exists = db.session.scalar(
            select(RosterTag.id).where(RosterTag.registration_id == registration.id, RosterTag.label == label)
        )
        if exists is None:
            db.session.add(
                RosterTag(
                    registration_id=registration.id, event_id=registration.event_id, label=label, created_by_id=actor.id
                )
            )
            added += 1
    db.session.flush()
    if added:
        audit.record(
            actor,
            "roster.tag",
            "event",
            registrations[0].event_id,
            {"tagged": added, "registrations": [r.id for r in registrations][:200]},
            org=registrations[0].slot.event.organization,
        )
    return added


def remove_tag(actor: User, tag: RosterTag) -> None:
    """Take a tag off (scope checked through the tag's event)."""
    tag_org = get_event(actor, tag.event_id).organization
    registration_id, event_id = tag.registration_id, tag.event_id
    db.session.execute(delete(RosterTag).where(RosterTag.id == tag.id))
    db.session.flush()
    audit.record(actor, "roster.untag", "event", event_id, {"registration": registration_id}, org=tag_org)
