"""A person's web sessions and API tokens as they see them on the devices page: which device, since when, last
used when; revoking one of them, or all at once ("log out everywhere").

A session's id is a secret (the signed cookie carries it), so pages and URLs name a session by a handle derived
from it instead. Session and token lifetimes are checked where they are used (``services.load_login_session``,
``services.api_login``); this page lists only what is alive.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import clock
from ..errors import NotFound
from ..extensions import db
from .models import ApiToken, LoginSession, User
from .services import revoke_all_sessions, revoke_api_token

DEVICE_MAX = 80
_PRODUCT_MAX = 40
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")

# (marker in the user agent, browser name), first match wins: in-app browsers and Chrome's derivatives name
# themselves before the "Chrome" and "Safari" tokens they also carry.
_BROWSERS = (
    ("MicroMessenger", "WeChat"),
    ("DingTalk", "DingTalk"),
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("HuaweiBrowser", "Huawei Browser"),
    ("SamsungBrowser", "Samsung Internet"),
    ("UCBrowser", "UC Browser"),
    ("MQQBrowser", "QQ Browser"),
    ("QQBrowser", "QQ Browser"),
    ("Firefox/", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("HarmonyOS", "HarmonyOS"),
    ("OpenHarmony", "HarmonyOS"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_summary(user_agent: str | None) -> str:
    """A short, non-identifying name for the device behind a User-Agent header: "Chrome · Android",
    "WeChat · iPhone", or for an app or script its product name ("zhijia-android"). Empty when unknown."""
    text = _UNPRINTABLE.sub("", user_agent or "")
    browser = next((name for marker, name in _BROWSERS if marker in text), None)
    system = next((name for marker, name in _SYSTEMS if marker in text), None)
    if browser is None and text.startswith("Mozilla/"):
        browser = system
        system = None
    if browser is None:
        product = text.strip().split(" ", 1)[0].split("/", 1)[0]
        return product[:_PRODUCT_MAX]
    return f"{browser} · {system}"[:DEVICE_MAX] if system else browser


def public_handle(session_id: str) -> str:
    """The name a page or URL gives a web session: not the secret id itself, but derived from it."""
    return hashlib.sha256(f"login-session:{session_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Device:
    """One line of the devices page: a web session (``handle``) or an API token (``token_id``)."""

    device: str
    created_at: datetime
    last_used_at: datetime
    handle: str | None = None
    token_id: int | None = None
    current: bool = False


def live_sessions(user: User, current_session_id: str | None) -> list[Device]:
    """``user``'s web sessions that are neither revoked nor timed out, the one making the request first."""
    now = clock.now()
    config = current_app.config
    rows = db.session.scalars(
        select(LoginSession)
        .where(
            LoginSession.user_id == user.id,
            LoginSession.revoked_at.is_(None),
            LoginSession.last_seen_at > now - timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            LoginSession.created_at > now - timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
        )
        .order_by(LoginSession.last_seen_at.desc())
    )
    found = [
        Device(
            device=row.device,
            created_at=row.created_at,
            last_used_at=row.last_seen_at,
            handle=public_handle(row.id),
            current=row.id == current_session_id,
        )
        for row in rows
    ]
    return sorted(found, key=lambda d: not d.current)


def live_tokens(user: User) -> list[Device]:
    """``user``'s API tokens that are neither revoked nor expired, most recently used first."""
    now = clock.now()
    config = current_app.config
    rows = db.session.scalars(
        select(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.last_used_at > now - timedelta(days=config["API_TOKEN_IDLE_DAYS"]),
            ApiToken.created_at > now - timedelta(days=config["API_TOKEN_ABSOLUTE_DAYS"]),
        )
        .order_by(ApiToken.last_used_at.desc(), ApiToken.id.desc())
    )
    return [
        Device(device=row.device, created_at=row.created_at, last_used_at=row.last_used_at, token_id=row.id)
        for row in rows
    ]


def revoke_session(user: User, handle: str) -> None:
    """End one of ``user``'s live web sessions, named by its handle: its next request is logged out. Another
    person's session (or an unknown handle) is NotFound."""
    ids = db.session.scalars(
        select(LoginSession.id).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    )
    session_id = next((i for i in ids if public_handle(i) == handle), None)
    if session_id is None:
        raise NotFound()
    db.session.execute(update(LoginSession).where(LoginSession.id == session_id).values(revoked_at=clock.now()))


def revoke_token(user: User, token_id: int) -> None:
    """End one of ``user``'s live API tokens; another person's token (or an unknown id) is NotFound."""
    if not revoke_api_token(user, token_id):
        raise NotFound()


def log_out_everywhere(user: User) -> None:
    """End every web session and every API token of ``user``, the one making the request included."""
    revoke_all_sessions(user)
