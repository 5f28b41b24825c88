"""The kind registry: each service kind (mixer, screening, trip...) supplies a policy object, so the booking
engine never branches on ``event.kind``.

A feature registers its policy in its ``init_app``; ``policy_for(kind)`` answers the engine, and
``registered_kinds()`` the statistics (each policy's ``figures``: ``events.figures``). The base class
implements the generic rules every kind shares (age window, gender, frontline, organization subtree,
industries), evaluated on the event's date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import clock
from ..accounts.models import Gender, User
from .figures import KindFigures

if TYPE_CHECKING:
    from ..booking.models import Registration
    from ..booking.states import Plan
    from .models import Event, Slot


class KindPolicy:
    kind: str = "general"
    label: Any = _l("职工活动")
    # Purposes (accounts.consents) whose separate consent booking this kind needs.
    consents: tuple[str, ...] = ()
    # True when a person may move their own confirmed booking to another slot of the event (screenings).
    self_service_move: bool = False
    # What the kind contributes to the statistics (its section, its headline figures, its roll-up counts).
    figures: KindFigures = KindFigures()

    def eligibility_reasons(self, user: User, event: Event, slot: Slot | None = None) -> list[str]:
        """Why ``user`` may not book ``event`` (empty when eligible). Kinds extend ``extra_reasons``."""
        profile = user.profile
        if profile is None:
            return [_("请先完善个人资料（性别、出生日期、单位等）。")]
        reasons: list[str] = []
        on = event.starts_at.date()
        age = clock.age_on(profile.birth_date, on)
        if event.min_age is not None and age < event.min_age:
            reasons.append(_("活动当天您 %(age)d 岁，本活动要求年满 %(min)d 岁。", age=age, min=event.min_age))
        if event.max_age is not None and age > event.max_age:
            reasons.append(_("活动当天您 %(age)d 岁，本活动限 %(max)d 岁及以下。", age=age, max=event.max_age))
        if event.gender is not None and profile.gender != event.gender:
            reasons.append(
                _("本活动仅限女职工参加。") if event.gender == Gender.FEMALE else _("本活动仅限男职工参加。")
            )
        if event.frontline_only and not profile.frontline:
            reasons.append(_("本活动面向一线职工。"))
        if event.subtree_only and not event.organization.contains(user.organization):
            reasons.append(_("本活动仅限%(org)s所属单位的职工报名。", org=event.organization.name))
        if event.industry_ids and profile.industry_id not in event.industry_ids:
            reasons.append(_("本活动仅限指定产业链（集群）的职工报名。"))
        reasons.extend(self.extra_reasons(user, event, slot))
        return reasons

    def extra_reasons(self, user: User, event: Event, slot: Slot | None) -> list[str]:
        return []

    def required_consents(self, event: Event, options: dict[str, Any] | None = None) -> tuple[str, ...]:
        return self.consents

    def waitlist_priority(self, user: User, slot: Slot) -> int:
        """Lower numbers are served first from the waitlist; ties go by time of joining."""
        return 0

    @property
    def uniform_waitlist_priority(self) -> bool:
        """True when everyone joins the waitlist with the same priority (the kind keeps the rule above): a newcomer
        then waits behind everyone already waiting, so their place needs no counting."""
        return type(self).waitlist_priority is KindPolicy.waitlist_priority

    def validate_options(self, user: User, slot: Slot, options: dict[str, Any] | None) -> dict[str, Any] | None:
        """Check kind-specific booking options (e.g. screening packages); raise a DomainError when invalid."""
        return None

    def before_hold(self, registration: Registration, slot: Slot) -> None:
        """Called with the slot locked just before ``registration`` takes a seat; may raise a DomainError."""

    def after_release(self, registration: Registration, slot: Slot) -> None:
        """Called with the slot locked just after ``registration`` gave its seat back."""

    def after_change(self, registration: Registration, plan: Plan) -> None:
        """Called once for every change of a registration of this kind, in the change's transaction, after it is
        written and before ``registration_changed`` is sent: ``plan`` says what changed (from and to status,
        cause, actor). Set-wise changes call it row by row (``reacts_to_each_change``). A kind keeps its own
        rows in step here (a mixer's badge at check-in, a screening's booking row) instead of filtering the
        global signal by kind."""

    @property
    def reacts_to_each_change(self) -> bool:
        """True when the kind overrides ``after_change``: the engine then loads the rows of a set-wise change to
        call it for each; otherwise a set-wise change costs this kind nothing."""
        return type(self).after_change is not KindPolicy.after_change

    def ticket_lines(self, registration: Registration) -> list[tuple[str, str]]:
        """Extra (label, value) lines printed on the ticket."""
        return []

    def anonymised_options(self, options: dict[str, Any] | None) -> dict[str, Any] | None:
        """The kind's deletion hook for booking options: what of ``options`` stays on a registration whose person
        deleted their account. Only values the statistics read and that identify nobody may stay; the default
        keeps nothing, since a kind's options may hold personal values (a mixer nickname)."""
        return None


_registry: dict[str, KindPolicy] = {}


def register_kind(policy: KindPolicy) -> None:
    _registry[policy.kind] = policy


def policy_for(kind: str) -> KindPolicy:
    try:
        return _registry[kind]
    except KeyError:
        raise LookupError(f"no policy registered for event kind {kind!r}") from None


def registered_kinds() -> dict[str, KindPolicy]:
    return dict(_registry)


register_kind(KindPolicy())
