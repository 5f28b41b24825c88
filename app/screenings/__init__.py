"""screenings feature (to be built)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, CLI commands, kind policies and signal receivers."""
