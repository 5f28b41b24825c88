"""Demo data: ``flask demo seed`` (run by ``make run``) and ``flask demo seed --scale province``.

Every demo and seed generator lives here, not in the product packages: ``core`` (staff and employees), one module
per feature (``organizer``, ``mixers``, ``screenings``, ``trips``, ``notifications``, ``stats``), ``covers``, and
the province's published year (``province_plan`` plans it, ``province`` writes it). An outer face: it imports the
features and the core; nothing imports it.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import demo_cli

    app.cli.add_command(demo_cli)
