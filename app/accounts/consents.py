"""The purposes for which sensitive personal information is processed, each with its own notice and version."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class ConsentPurpose:
    code: str
    title: object  # a lazy string
    notice: object
    version: str
    withdraw_effect: object


MIXER_SIGNUP = "mixer_signup"
HEALTH_SCREENING = "health_screening"

PURPOSES: dict[str, ConsentPurpose] = {
    MIXER_SIGNUP: ConsentPurpose(
        code=MIXER_SIGNUP,
        title=_l("单身状态（联谊活动报名）"),
        notice=_l(
            "报名联谊活动即声明您目前为单身。婚姻状况属于敏感个人信息，仅用于本次联谊活动的报名审核与匹配，"
            "不会向其他参与者展示，活动结束并完成匹配后按保留期限删除。您可以随时撤回同意，撤回将取消您尚未开始的联谊活动报名。"
        ),
        version="2026-11",
        withdraw_effect=_l("撤回后，您尚未开始的联谊活动报名将被取消。"),
    ),
    HEALTH_SCREENING: ConsentPurpose(
        code=HEALTH_SCREENING,
        title=_l("健康信息（健康体检预约）"),
        notice=_l(
            "预约健康体检或“两癌”筛查会处理与您健康相关的敏感个人信息（所选体检项目及到场情况）。"
            "本系统不保存任何体检结果，仅记录预约与到场情况，用于安排时段和统计服务覆盖人数。您可以随时撤回同意，"
            "撤回将取消您尚未进行的体检预约。"
        ),
        version="2026-11",
        withdraw_effect=_l("撤回后，您尚未进行的体检预约将被取消。"),
    ),
}
