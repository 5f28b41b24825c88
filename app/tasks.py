"""Periodic work the scheduler runs, registered by the features that own it (no import of the scheduler).

A task is a plain function taking ``now`` and returning a count of things done; it runs inside an app context,
and the scheduler commits after it. Tasks must be safe to run twice and on several hosts at once (lock or claim
what they change).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Task:
    name: str
    func: Callable[[datetime], int]
    every_seconds: int
    # What the task's last runs had to leave out (one line each, in the user's language), for the system page.
    problems: Callable[[], list[str]] | None = None


_tasks: dict[str, Task] = {}


def register_task(
    name: str,
    func: Callable[[datetime], int],
    every_seconds: int = 60,
    problems: Callable[[], list[str]] | None = None,
) -> None:
    """Register (or replace) the task ``name``; registering again with the same name is harmless. ``problems``
    lists what the task skipped so that the rest could be done (shown to admins on the system page)."""
    _tasks[name] = Task(name, func, every_seconds, problems)


def registered_tasks() -> list[Task]:
    return sorted(_tasks.values(), key=lambda task: task.name)
