"""Domain errors of the trips feature (Chinese messages; stable ``code`` for the API)."""

from __future__ import annotations

from flask_babel import gettext as _

from ..errors import DomainError


class OneTripPerYear(DomainError):
    code = "one_trip_per_year"
    http_status = 409

    def default_message(self) -> str:
        return _("每位职工每年只能参加一次疗休养，您今年已获得名额。")


class AlreadyDrawn(DomainError):
    code = "lottery_already_drawn"
    http_status = 409

    def default_message(self) -> str:
        return _("该团期已经抽签，抽签结果不能重抽，只能核验。")


class LotteryNotReady(DomainError):
    code = "lottery_not_ready"
    http_status = 409

    def default_message(self) -> str:
        return _("该团期暂不能抽签。")


class DetailsDeadlinePassed(DomainError):
    code = "details_deadline_passed"
    http_status = 409

    def default_message(self) -> str:
        return _("已过确认出行信息的截止时间。")
