"""How an inbox message reads on the page (issue 21, item 11): paragraphs of text, and its link as a labelled
button — never a raw URL. Messages carry their link's label as a last paragraph "label：URL" (so that plain-text
email stays usable); on the page that paragraph becomes the button's label."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _

from .models import InboxMessage

# "去确认：http://host/me/bookings" — the label, a colon (full or half width), then one URL or path.
_ACTION_LINE = re.compile(r"^(?P<label>[^\n：:]{1,40})[：:]\s*(?P<url>(?:https?://\S+|/\S*))$")
_URL = re.compile(r"https?://\S+")


@dataclass
class InboxView:
    message: InboxMessage
    paragraphs: list[str]
    action: str  # the button's label when the message has a link


def inbox_view(message: InboxMessage) -> InboxView:
    """The message's paragraphs without the "label：URL" line its link was written as (its label labels the
    button instead), and with any other web address left in the text replaced by a mention of that button."""
    paragraphs = [part.strip() for part in message.body.split("\n\n") if part.strip()]
    action = ""
    kept: list[str] = []
    for paragraph in paragraphs:
        match = _ACTION_LINE.match(paragraph)
        if match is not None:
            action = action or match.group("label").strip()
            continue
        kept.append(_URL.sub(_("（见下方按钮）") if message.link else "", paragraph).strip())
    return InboxView(message, [p for p in kept if p], action or _("查看详情"))
