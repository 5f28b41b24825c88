"""``flask demo seed``: organizations, staff, ~200 employees, then each feature's demo data."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask.cli import AppGroup

from ..extensions import db
from . import core, covers, mixers, notifications, organizer, province, screenings, stats, trips

demo_cli = AppGroup("demo", help="Believable demo data.")

# (the name printed when it is ready, the seeder), in order. Statistics last: its demo rebuilds the roll-up over
# everything the others booked.
FEATURE_DEMOS: list[tuple[str, Callable[[], None]]] = [
    ("demo", core.seed_demo),
    ("organizer", organizer.seed_demo),
    ("mixers", mixers.seed_demo),
    ("screenings", screenings.seed_demo),
    ("trips", trips.seed_demo),
    ("notifications", notifications.seed_demo),
    ("demo", covers.seed_demo),
    ("stats", stats.seed_demo),
]


@demo_cli.command("seed")
@click.option(
    "--scale",
    type=click.Choice(["demo", "province"]),
    default="demo",
    show_default=True,
    help=(
        "demo: staff logins, ~200 employees and each feature's demo data. province: staff logins and one year of "
        "the province at the published sizes (219 mixers, 1,776 couples, 18,293 two-cancer screenings, 11,500 "
        "trip places against 10,000) and nothing else, so the dashboard reads exactly those figures; use an empty "
        "database for it (refused where the ordinary demo data is)."
    ),
)
def seed(scale: str) -> None:
    """Believable data for trying the app. Idempotent: running it again adds nothing."""
    from ..orgs.services import seed_reference_data

    seed_reference_data()
    db.session.commit()
    if scale == "province":
        _seed_province()
    else:
        _seed_demo()
    click.echo("demo data ready")


def _seed_demo() -> None:
    for name, seeder in FEATURE_DEMOS:
        seeder()
        db.session.commit()
        click.echo(f"  {name}: ready")


def _seed_province() -> None:
    from ..progress import progress_bar

    if core.has_demo_employees():
        click.echo(
            "this database holds the ordinary demo data, whose bookings would add to the province's figures: "
            "seed the province into an empty database",
            err=True,
        )
        raise SystemExit(1)
    core.seed_staff()
    db.session.commit()
    click.echo("  staff logins: ready")
    lines: list[str] = []  # printed after the bar, not through it
    with progress_bar("province year") as progress:
        province.seed_province(echo=lines.append, progress=progress)
    db.session.commit()
    for line in lines:
        click.echo(line)
