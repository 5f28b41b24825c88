"""One rule for every piece of free text a person types, in every form and in the API.

Text is trimmed (surrounding whitespace, full-width spaces included), line breaks are made ``\\n``, and it is
refused when it holds a control character (NUL, escape, bell...; a line break or tab only in multi-line text),
an invisible direction override, a lone surrogate, or more characters than the field takes. Such text cannot be
stored on every database (PostgreSQL refuses NUL), breaks exports and screens, or disguises what it says.

``clean_text`` is the rule. Forms get it from ``AppForm`` / ``AppSubform``: every text field (``StringField``
and its kinds, passwords aside) is given the trimming filter and the ``FreeText`` validator when it is bound, with
a default length when the field states none. The API's JSON parsing and the services that take text from
elsewhere (booking options) call ``clean_text`` themselves.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtf_translations
from wtforms import Form, PasswordField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

SINGLE_LINE_MAX = 200  # a text field that states no length takes at most this many characters
MULTI_LINE_MAX = 5000

# C0 and C1 controls and DEL, line and paragraph separators, direction embeddings/overrides/isolates, surrogates.
_REFUSED_ALWAYS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_REFUSED_SINGLE_LINE = re.compile(f"[\t\n{_REFUSED_ALWAYS}]")
_REFUSED_MULTI_LINE = re.compile(f"[{_REFUSED_ALWAYS}]")


class TextRefused(ValueError):
    """Free text that breaks the rule; ``message`` says why, in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def trim_text(value: str, *, multiline: bool = False) -> str:
    """Surrounding whitespace removed; in multi-line text every line break becomes ``\\n``."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.strip()


def text_problem(value: str, *, max_length: int, multiline: bool = False) -> str | None:
    """Why already trimmed ``value`` breaks the rule, or None."""
    if (_REFUSED_MULTI_LINE if multiline else _REFUSED_SINGLE_LINE).search(value):
        if multiline:
            return _("不能包含控制字符或不可见的排版符号。")
        return _("请写在一行内，不能包含换行、制表符等控制字符。")
    if len(value) > max_length:
        return _("不能超过 %(n)d 个字。", n=max_length)
    return None


def clean_text(value: object, *, max_length: int, multiline: bool = False) -> str:
    """The rule for free text: ``value`` trimmed, or TextRefused when it is not text, holds a control character
    (a line break or tab allowed only when ``multiline``), or is longer than ``max_length`` once trimmed."""
    if not isinstance(value, str):
        raise TextRefused(_("必须是文本。"))
    text = trim_text(value, multiline=multiline)
    problem = text_problem(text, max_length=max_length, multiline=multiline)
    if problem:
        raise TextRefused(problem)
    return text


class FreeText:
    """WTForms validator applying ``clean_text``'s checks to a field whose data the trimming filter cleaned."""

    def __init__(self, *, max_length: int | None, multiline: bool = False) -> None:
        self.max_length = max_length
        self.multiline = multiline

    def __call__(self, form: Any, field: Any) -> None:
        if not isinstance(field.data, str):
            return
        limit = self.max_length if self.max_length is not None else len(field.data)
        problem = text_problem(field.data, max_length=limit, multiline=self.multiline)
        if problem:
            raise ValidationError(problem)


def _trim_single(value: Any) -> Any:
    return trim_text(value) if isinstance(value, str) else value


def _trim_multi(value: Any) -> Any:
    return trim_text(value, multiline=True) if isinstance(value, str) else value


def bind_text_rule(field: Any) -> Any:
    """Give a bound text field the rule: the trimming filter first, the ``FreeText`` validator last, and a
    default length when none of its validators states one. Other fields are returned unchanged."""
    if not isinstance(field, StringField) or isinstance(field, PasswordField):
        return field
    multiline = isinstance(field, TextAreaField)
    field.filters = (_trim_multi if multiline else _trim_single, *field.filters)
    has_length = any(isinstance(validator, Length) and validator.max >= 0 for validator in field.validators)
    default = MULTI_LINE_MAX if multiline else SINGLE_LINE_MAX
    field.validators = [*field.validators, FreeText(max_length=None if has_length else default, multiline=multiline)]
    return field


class _TextRuleMeta:
    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        return bind_text_rule(unbound_field.bind(form=form, **options))


class AppForm(FlaskForm):
    """The base of every form of the app: Flask-WTF (CSRF, translations) plus the free-text rule."""

    class Meta(_TextRuleMeta):
        pass


class AppSubform(Form):
    """The base of subforms nested in an ``AppForm`` (``FormField``): the free-text rule, Chinese messages."""

    class Meta(_TextRuleMeta):
        def get_translations(self, form: Any) -> Any:
            return wtf_translations
