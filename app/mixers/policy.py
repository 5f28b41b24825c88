"""The mixer kind's policy for the booking engine: a separate consent to declaring single status, a nickname
chosen at sign-up, and badge / nickname lines on the ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..accounts.consents import MIXER_SIGNUP
from ..accounts.models import User
from ..errors import InvalidInput
from ..events.kinds import KindPolicy
from ..extensions import db
from ..freetext import TextRefused, clean_text
from .figures import MixerFigures

if TYPE_CHECKING:
    from ..booking.models import Registration
    from ..booking.states import Plan
    from ..events.models import Event, Slot

NICKNAME_MAX = 12
CONTACT_MAX = 60


def clean_nickname(raw: object, real_name: str | None, *, required: bool) -> str | None:
    """A nickname is free text under the app's rule (``freetext.clean_text``: one line, no control characters,
    1–12 characters), its inner spaces collapsed, and not the person's real name."""
    try:
        text = " ".join(clean_text("" if raw is None else raw, max_length=NICKNAME_MAX).split())
    except TextRefused as refused:
        raise InvalidInput(refused.message, fields={"nickname": [refused.message]}) from None
    if not text:
        if required:
            raise InvalidInput(_("请填写昵称。"), fields={"nickname": [_("请填写昵称。")]})
        return None
    if real_name and text.replace(" ", "") == real_name.replace(" ", ""):
        message = _("为保护隐私，昵称不能使用真实姓名。")
        raise InvalidInput(message, fields={"nickname": [message]})
    return text


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "on", "yes", "y"}


class MixerPolicy(KindPolicy):
    kind = "mixer"
    label = _l("单身联谊")
    consents = (MIXER_SIGNUP,)
    figures = MixerFigures()

    def validate_options(self, user: User, slot: Slot, options: dict[str, Any] | None) -> dict[str, Any] | None:
        """Sign-up may carry a nickname (not the real name) and whether to share contact details on a match."""
        options = options or {}
        nickname = clean_nickname(options.get("nickname"), user.name, required=False)
        return {"nickname": nickname, "share_contact": _truthy(options.get("share_contact"))}

    def after_change(self, registration: Registration, plan: Plan) -> None:
        """Badges follow check-ins (``checkin.keep_badges_in_step``)."""
        # Imported here: the check-in module imports this one for the nickname rules.
        from .checkin import keep_badges_in_step

        keep_badges_in_step(registration, plan.from_status, plan.to_status)

    def ticket_lines(self, registration: Registration) -> list[tuple[str, str]]:
        from .models import MixerAttendee

        lines: list[tuple[str, str]] = []
        attendee = db.session.scalar(
            select(MixerAttendee).where(
                MixerAttendee.event_id == registration.event_id, MixerAttendee.user_id == registration.user_id
            )
        )
        nickname = (attendee.nickname if attendee else None) or (registration.options or {}).get("nickname")
        if attendee is not None:
            lines.append((_("胸牌号"), str(attendee.badge_no)))
        if nickname:
            lines.append((_("联谊昵称"), str(nickname)))
        return lines

    def extra_reasons(self, user: User, event: Event, slot: Slot | None) -> list[str]:
        return []
