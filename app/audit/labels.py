"""What the audit trail's actions and objects are called where people read them (the audit page and its CSV).

Rows store stable codes (``registration.approve``, ``event``): language-neutral, filterable, the same in every
export. Their names are looked up when shown, in the reader's language. A code without a name here still shows,
as itself; tests/test_audit_labels.py finds every code that ``audit.record`` is called with in ``app/`` and fails
while one has no name.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_pgettext

# In the "audit" translation context: a log line's words, apart from a button's that read the same in Chinese
# ("取消活动" is "Cancel event" on a button, "Cancelled an event" here).

ACTION_NAMES = {
    "account.delete": lazy_pgettext("audit", "注销账号"),
    "audit.export": lazy_pgettext("audit", "导出操作日志"),
    "checkin": lazy_pgettext("audit", "签到"),
    "checkin.override": lazy_pgettext("audit", "非签到时间签到"),
    "checkin.undo": lazy_pgettext("audit", "撤销签到"),
    "event.cancel": lazy_pgettext("audit", "取消活动"),
    "event.create": lazy_pgettext("audit", "新建活动"),
    "event.duplicate": lazy_pgettext("audit", "复制活动"),
    "event.edit": lazy_pgettext("audit", "编辑活动"),
    "event.no_shows": lazy_pgettext("audit", "标记未到场"),
    "event.publish": lazy_pgettext("audit", "发布活动"),
    "event.reminders": lazy_pgettext("audit", "修改提醒时间"),
    "event.unpublish": lazy_pgettext("audit", "撤回发布"),
    "mixer.outcome": lazy_pgettext("audit", "记录配对进展"),
    "mixer.paper_pair": lazy_pgettext("audit", "录入纸质心动卡配对"),
    "mixer.reveal": lazy_pgettext("audit", "揭晓配对"),
    "registration.add": lazy_pgettext("audit", "代为报名"),
    "registration.approve": lazy_pgettext("audit", "通过报名"),
    "registration.cancel": lazy_pgettext("audit", "取消报名"),
    "registration.move": lazy_pgettext("audit", "调整场次"),
    "registration.promote": lazy_pgettext("audit", "候补转为确认"),
    "registration.reject": lazy_pgettext("audit", "拒绝报名"),
    "roster.export": lazy_pgettext("audit", "导出名单"),
    "roster.message": lazy_pgettext("audit", "给名单发消息"),
    "roster.tag": lazy_pgettext("audit", "添加标签"),
    "roster.untag": lazy_pgettext("audit", "移除标签"),
    "screening.absent": lazy_pgettext("audit", "标记体检未到"),
    "screening.outcome": lazy_pgettext("audit", "登记体检到场情况"),
    "trip.draw": lazy_pgettext("audit", "疗休养抽签"),
    "trip.freeze": lazy_pgettext("audit", "冻结抽签名单"),
    "trip.model_worker": lazy_pgettext("audit", "设定劳模工匠"),
    "trip.public_value": lazy_pgettext("audit", "录入公开随机数"),
    "view.person": lazy_pgettext("audit", "查看个人信息"),
    "view.roster": lazy_pgettext("audit", "查看名单"),
}

OBJECT_NAMES = {
    "audit": lazy_pgettext("audit", "操作日志"),
    "event": lazy_pgettext("audit", "活动"),
    "mixer_pair": lazy_pgettext("audit", "配对"),
    "registration": lazy_pgettext("audit", "报名"),
    "user": lazy_pgettext("audit", "职工"),
}


def action_name(code: str) -> str:
    """The name of an audit action in the reader's language; an unknown code shows as itself."""
    return _named(ACTION_NAMES, code)


def object_name(code: str) -> str:
    """The name of an audited object's type in the reader's language; an unknown code shows as itself."""
    return _named(OBJECT_NAMES, code)


def _named(names: Mapping[str, object], code: str) -> str:
    name = names.get(code)
    return str(name) if name is not None else code
