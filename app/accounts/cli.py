"""``flask users ...``: non-interactive account administration for scripts."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..errors import InvalidInput
from ..extensions import db
from ..orgs.services import get_by_code, province
from ..progress import progress_bar
from . import services
from .importer import import_members
from .models import Role

users_cli = AppGroup("users", help="Create staff accounts and import member lists.")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _staff(phone: str, password: str, name: str, role: Role, org_code: str | None) -> None:
    org = get_by_code(org_code) if org_code else province()
    if org is None:
        _fail(f"unknown organization code {org_code!r}; see `flask orgs list`")
        return
    try:
        user = services.create_staff(phone=phone, password=password, name=name, role=role, organization=org)
    except InvalidInput as error:
        _fail("; ".join(f"{k}: {' '.join(v)}" for k, v in error.fields.items()) or error.message)
        return
    db.session.commit()
    click.echo(f"{role.value} {user.phone} ({user.name}) acts for {org.code}")


@users_cli.command("create-admin")
@click.option("--phone", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
def create_admin(phone: str, password: str, name: str) -> None:
    """Create or update a federation admin."""
    _staff(phone, password, name, Role.ADMIN, None)


@users_cli.command("create-organizer")
@click.option("--phone", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--org", "org_code", required=True, help="organization code (flask orgs list)")
def create_organizer(phone: str, password: str, name: str, org_code: str) -> None:
    """Create or update an organizer acting for one organization and its subtree."""
    _staff(phone, password, name, Role.ORGANIZER, org_code)


@users_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org_code", default=None, help="union the members belong to")
def import_csv(csv_file: str, org_code: str | None) -> None:
    """Import members from CSV (header: phone,name,gender,birth_date,city,employer,enterprise_type,industry,
    frontline,member_no,email,password). All rows or none."""
    org = get_by_code(org_code) if org_code else None
    if org_code and org is None:
        _fail(f"unknown organization code {org_code!r}")
    with open(csv_file, encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    with progress_bar("importing members") as progress:
        report = import_members(text, org, progress=progress)
    if not report.imported:
        db.session.rollback()
        for problem in report.errors:  # one line per reason: "line N: ..."
            click.echo(problem, err=True)
        _fail(
            f"refused {len(report.refused)} line(s) of {report.rows}: nothing imported (all lines or none); "
            f"the other lines would create {report.created} and update {report.updated}"
        )
    db.session.commit()
    click.echo(f"created {report.created}, updated {report.updated}, refused 0 of {report.rows} line(s)")
    if report.needs_password:
        click.echo(
            f"{len(report.needs_password)} account(s) without a password: each member activates theirs at "
            "/account/activate with a code sent by SMS to their number"
        )
