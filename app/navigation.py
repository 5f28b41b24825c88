"""The navigation's registries: features add entries to the main navigation and to the profile page's menu
without the shell importing them. Each provider gets the logged-in user and returns a ``NavItem`` or None;
``app.web`` renders what they give. Ground floor: it imports no room, so the core and every feature may use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class NavItem:
    label: Any
    url: str
    badge: int = 0


NavProvider = Callable[[Any], "NavItem | None"]
nav_providers: list[NavProvider] = []
profile_link_providers: list[NavProvider] = []


def register_nav(provider: NavProvider) -> None:
    """Add an entry to the main navigation (once, however often the app is created)."""
    if provider not in nav_providers:
        nav_providers.append(provider)


def register_profile_link(provider: NavProvider) -> None:
    """Add an entry to the profile page's menu (once)."""
    if provider not in profile_link_providers:
        profile_link_providers.append(provider)


def collect(providers: list[NavProvider], user: Any) -> list[NavItem]:
    """The entries the providers give ``user``, in registration order."""
    return [item for provider in providers if (item := provider(user)) is not None]
