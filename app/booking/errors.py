"""Domain errors of the booking engine; the API's ``error`` codes are their ``code``."""

from __future__ import annotations

from flask_babel import gettext as _

from ..errors import DomainError


class Full(DomainError):
    code = "full"
    http_status = 409

    def default_message(self) -> str:
        return _("名额已满。")


class AlreadyRegistered(DomainError):
    code = "already_registered"
    http_status = 409

    def default_message(self) -> str:
        return _("您已报名该活动。")


class NotEligible(DomainError):
    code = "not_eligible"
    http_status = 422

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(_("您不符合报名条件：%(reasons)s", reasons="；".join(reasons)), reasons=reasons)


class WindowClosed(DomainError):
    code = "window_closed"
    http_status = 409

    def default_message(self) -> str:
        return _("当前不在报名时间内。")


class EventUnavailable(DomainError):
    code = "event_unavailable"
    http_status = 409

    def default_message(self) -> str:
        return _("该活动已取消或未发布。")


class CancelDeadlinePassed(DomainError):
    code = "cancel_deadline_passed"
    http_status = 409

    def default_message(self) -> str:
        return _("已过取消截止时间，如需取消请联系组织者。")


class IllegalTransition(DomainError):
    code = "illegal_transition"
    http_status = 409

    def default_message(self) -> str:
        return _("当前状态下不能执行该操作。")


class OfferExpired(DomainError):
    code = "offer_expired"
    http_status = 409

    def default_message(self) -> str:
        return _("候补名额的确认期限已过。")
