"""``flask trips ...``: verify a lottery (from the database or an exported file), draw due lotteries, set a
target."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import clock
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..orgs.models import Organization
from . import lottery, lottery_draw, lottery_record, targets

trips_cli = AppGroup("trips", help="Recuperation trips (职工疗休养).")


@trips_cli.command("verify-lottery")
@click.argument("departure_id", required=False, type=int)
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An exported lottery JSON file.",
)
def verify_lottery(departure_id: int | None, path: Path | None) -> None:
    """Re-run a drawn lottery and print "match" or the first difference (exit status 1 on a difference)."""
    if (departure_id is None) == (path is None):
        raise click.UsageError("give either DEPARTURE_ID or --file EXPORT.json")
    if path is not None:
        try:
            export = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            click.echo(f"cannot read {path}: {error}")
            sys.exit(2)
        result = lottery.verify(export if isinstance(export, dict) else {})
    else:
        try:
            result = lottery_record.verify_departure(int(departure_id or 0))
        except NotFound:
            click.echo(f"departure {departure_id} not found")
            sys.exit(2)
    click.echo(result.message)
    if not result.ok:
        sys.exit(1)


@trips_cli.command("draw-due")
def draw_due() -> None:
    """Freeze and draw every due lottery now (what the scheduler does every minute)."""
    count = lottery_draw.draw_due(clock.now())
    db.session.commit()
    click.echo(f"{count} done")


@trips_cli.command("set-target")
@click.argument("year", type=int)
@click.argument("places", type=int)
@click.option("--org", "org_code", default="jx", show_default=True)
def set_target(year: int, places: int, org_code: str) -> None:
    """Set the yearly target of trip places for an organization (default: the province)."""
    organization = db.session.scalar(select(Organization).where(Organization.code == org_code))
    if organization is None:
        raise click.UsageError(f"unknown organization {org_code}")
    try:
        targets.save_target(year, organization, places)
    except InvalidInput as error:
        raise click.UsageError(error.message) from None
    db.session.commit()
    click.echo(f"{organization.name} {year}: {places}")
