"""``flask demo seed``: organizations, staff, ~200 employees, then each feature's demo data."""

from __future__ import annotations

import importlib
import importlib.util

import click
from flask.cli import AppGroup

from ..extensions import db

demo_cli = AppGroup("demo", help="Believable demo data.")

# Statistics last: its demo rebuilds the roll-up over everything the others booked.
FEATURE_DEMOS = [
    "app.demo.core",
    "app.organizer.demo",
    "app.mixers.demo",
    "app.screenings.demo",
    "app.trips.demo",
    "app.notifications.demo",
    "app.demo.covers",
    "app.stats.demo",
]


@demo_cli.command("seed")
@click.option("--scale", type=click.Choice(["demo", "province"]), default="demo")
def seed(scale: str) -> None:
    """Idempotent: running it again adds nothing."""
    from ..orgs.services import seed_reference_data

    seed_reference_data()
    db.session.commit()
    for name in FEATURE_DEMOS:
        if importlib.util.find_spec(name) is None:  # a feature without demo data
            continue
        module = importlib.import_module(name)
        seeder = getattr(module, "seed_demo", None)
        if seeder is not None:
            seeder()
            db.session.commit()
            click.echo(f"  {name.split('.')[1]}: ready")
    if scale == "province":
        province = importlib.import_module("app.stats.province_seed")
        province.seed_province()
        db.session.commit()
    click.echo("demo data ready")
