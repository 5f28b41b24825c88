"""Union organization tree: creation, subtree scope, and the idempotent reference-data seed."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select

from ..extensions import db
from .models import City, EnterpriseType, Industry, Organization, OrgLevel
from .reference import (
    CITIES,
    INDUSTRIES,
    PROVINCE_ORG_CODE,
    PROVINCE_ORG_NAME,
    city_org_code,
    city_org_name,
)


def create_organization(
    *,
    code: str,
    name: str,
    level: OrgLevel,
    parent: Organization | None,
    city: City | None = None,
    enterprise_type: EnterpriseType | None = None,
) -> Organization:
    """Add an organization below ``parent``; its ``path`` extends the parent's so subtree tests are prefix tests."""
    org = Organization(
        code=code,
        name=name,
        level=level,
        parent=parent,
        city=city or (parent.city if parent else None),
        enterprise_type=enterprise_type,
    )
    db.session.add(org)
    db.session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    db.session.flush()
    return org


def in_subtree(org: Organization, column_path: ColumnElement[str] | None = None) -> ColumnElement[bool]:
    """SQL condition: the organization (by its ``path`` column) lies in ``org``'s subtree."""
    path_column = column_path if column_path is not None else Organization.path
    return path_column.startswith(org.path, autoescape=True)


def subtree_ids_select(org: Organization) -> Select[int]:
    """A SELECT of the ids of ``org`` and every organization below it."""
    return select(Organization.id).where(in_subtree(org))


def get_by_code(code: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.code == code))


def province() -> Organization:
    org = get_by_code(PROVINCE_ORG_CODE)
    if org is None:
        raise LookupError("reference data not seeded: run `flask orgs seed`")
    return org


def city_by_name(name: str) -> City | None:
    return db.session.scalar(select(City).where(City.name == name))


def industry_by_name(name: str) -> Industry | None:
    """Industries are named in Chinese; a name shared by a chain and a cluster resolves to the chain."""
    return db.session.scalar(
        select(Industry).where(Industry.name == name).order_by(Industry.group, Industry.sort_order)
    )


def seed_reference_data() -> None:
    """Insert the cities, industries and the province → city federation tree; running it again changes nothing."""
    existing_cities = {c.code: c for c in db.session.scalars(select(City))}
    for order, (code, name, name_en, prefecture) in enumerate(CITIES):
        if code not in existing_cities:
            city = City(code=code, name=name, name_en=name_en, is_prefecture=prefecture, sort_order=order)
            db.session.add(city)
            existing_cities[code] = city
    existing_industries = set(db.session.scalars(select(Industry.code)))
    for order, (code, name, name_en, group) in enumerate(INDUSTRIES):
        if code not in existing_industries:
            db.session.add(Industry(code=code, name=name, name_en=name_en, group=group, sort_order=order))
    db.session.flush()

    root = get_by_code(PROVINCE_ORG_CODE)
    if root is None:
        root = create_organization(code=PROVINCE_ORG_CODE, name=PROVINCE_ORG_NAME, level=OrgLevel.PROVINCE, parent=None)
    for code, name, _name_en, _prefecture in CITIES:
        if get_by_code(city_org_code(code)) is None:
            create_organization(
                code=city_org_code(code),
                name=city_org_name(name),
                level=OrgLevel.CITY,
                parent=root,
                city=existing_cities[code],
            )
    db.session.flush()


def all_cities() -> list[City]:
    return list(db.session.scalars(select(City).order_by(City.sort_order)))


def all_industries() -> list[Industry]:
    return list(db.session.scalars(select(Industry).order_by(Industry.group, Industry.sort_order)))
