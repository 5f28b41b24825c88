"""``flask orgs ...``: reference data and the organization tree."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from .models import Organization
from .services import seed_reference_data

orgs_cli = AppGroup("orgs", help="Union organizations and reference data.")


@orgs_cli.command("seed")
def seed() -> None:
    """Insert cities, industries and the province/city federations (idempotent)."""
    seed_reference_data()
    db.session.commit()
    click.echo("reference data ready")


@orgs_cli.command("list")
def list_orgs() -> None:
    """Print every organization code, indented by depth."""
    for org in db.session.scalars(select(Organization).order_by(Organization.path)):
        depth = org.path.count("/") - 2
        click.echo(f"{'  ' * depth}{org.code}\t{org.name}\t{org.level.value}")
