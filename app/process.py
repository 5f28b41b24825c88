"""What a long-running process (a web worker, the scheduler) does once its application is built."""

from __future__ import annotations

import gc


def settle_after_startup() -> None:
    """Move everything built at startup (modules, the app, compiled statements) out of the garbage collector's
    way. Those objects live as long as the process, yet every full collection walks them all again; a large
    set-wise change (a 20,000-applicant draw) causes a few of those, about a tenth of a second in all
    (bench/README.md). ``gc.freeze`` is CPython's public switch for this. Frozen objects are never collected,
    so a process calls this once, after startup; tests, which build many apps, never do."""
    gc.collect()
    gc.freeze()
