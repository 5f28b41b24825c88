"""The Redis database that tests which flush it may use: 15, or one of its own for each pytest-xdist worker."""

import os


def redis_test_url() -> str:
    """``redis://127.0.0.1:6379/15`` for a plain run; 15, 14, … for xdist workers gw0, gw1, … (run in parallel)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return f"redis://127.0.0.1:6379/{15 - int(worker.removeprefix('gw'))}"
