"""Language selection: Chinese (zh_CN) first, English by a visible switch; the API follows Accept-Language."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale

from .extensions import babel


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, scheduler, tests calling services
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(supported, default="zh_CN") or "zh_CN"
    chosen = session.get("lang")
    if chosen in supported:
        return str(chosen)
    # Only a user already loaded for this request is consulted: loading one here could recurse into gettext.
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False) and user.locale in supported:
        return str(user.locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def current_locale() -> str:
    """The active locale as one of LANGUAGES: Babel parses "zh_CN" as zh_Hans_CN, so compare the language only."""
    locale = get_locale()
    return "zh_CN" if locale is None or locale.language == "zh" else str(locale)


def html_lang() -> str:
    return "zh-CN" if current_locale() == "zh_CN" else "en"


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["current_locale"] = current_locale
