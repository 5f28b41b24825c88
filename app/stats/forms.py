"""The dashboard's filter form (read from the query string; a GET that changes nothing needs no CSRF token)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from ..freetext import AppForm
from .services import kind_labels


class StatsFilterForm(AppForm):
    class Meta:
        csrf = False

    year = IntegerField(
        _l("年度"), validators=[Optional(), NumberRange(min=2000, max=2100, message=_l("年度不正确。"))]
    )
    org = IntegerField(_l("组织"), validators=[Optional()])
    kind = SelectField(_l("活动类型"), choices=[], validators=[Optional()], validate_choice=True)
    start = DateField(_l("开始日期"), validators=[Optional()])
    end = DateField(_l("结束日期"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", str(_l("全部类型")))] + [(key, str(label)) for key, label in kind_labels().items()]

    def query(self) -> dict[str, Any]:
        """The filters as keyword arguments for ``services.dashboard``."""
        return {
            "org_id": self.org.data,
            "year": self.year.data,
            "start": self.start.data,
            "end": self.end.data,
            "kind": self.kind.data or None,
        }
