"""Mixer sub-domain: the typed domain errors of the mixer rules (picks, the reveal, paper pairs), which views turn
into messages or HTTP codes.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..errors import DomainError


class PickWindowClosed(DomainError):
    code = "pick_window_closed"
    http_status = 409

    def default_message(self) -> str:
        return _("当前不在心动卡填写时间内。")


class NotAnAttendee(DomainError):
    code = "not_attendee"
    http_status = 403

    def default_message(self) -> str:
        return _("签到后才能填写心动卡。")


class TooManyPicks(DomainError):
    code = "too_many_picks"
    http_status = 422


class InvalidPick(DomainError):
    code = "invalid_pick"
    http_status = 422

    def default_message(self) -> str:
        return _("所选胸牌号无效，请刷新后重试。")


class AlreadyRevealed(DomainError):
    code = "already_revealed"
    http_status = 409

    def default_message(self) -> str:
        return _("本场心动卡已揭晓，不能再修改。")


class WindowStillOpen(DomainError):
    code = "pick_window_open"
    http_status = 409

    def default_message(self) -> str:
        return _("心动卡填写尚未截止。")


class DuplicatePair(DomainError):
    code = "duplicate_pair"
    http_status = 409

    def default_message(self) -> str:
        return _("这一对已经登记过了。")


class NicknameRequired(DomainError):
    code = "nickname_required"
    http_status = 422

    def default_message(self) -> str:
        return _("请先设置联谊昵称再填写心动卡。")
