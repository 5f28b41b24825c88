"""Progress of long work (imports, the province seed, the statistics rebuild) without tying services to a terminal.

A service takes an optional ``Progress`` and calls it with how much is done out of how much; the CLI passes
``progress_bar(label)``, which draws click's progress bar on stderr (click hides the bar when stderr is not a
terminal, so logs and tests get only the label).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol

import click


class Progress(Protocol):
    def __call__(self, done: int, total: int) -> None: ...


def no_progress(done: int, total: int) -> None:
    """The default: report nothing."""


@contextmanager
def progress_bar(label: str) -> Iterator[Progress]:
    """A ``Progress`` drawing click's bar on stderr; a bar is opened at the first report, when the total is known
    (and again if the total changes: a new stage of the work)."""
    with ExitStack() as stack:
        state: dict[str, Any] = {"bar": None, "total": -1, "done": 0}

        def report(done: int, total: int) -> None:
            if total != state["total"]:
                stack.close()
                state["bar"] = stack.enter_context(
                    click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
                )
                state["total"], state["done"] = total, 0
            if done > state["done"]:
                state["bar"].update(done - state["done"])
                state["done"] = done

        yield report
