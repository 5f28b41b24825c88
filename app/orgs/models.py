"""Reference data (cities, industry chains and clusters, enterprise types) and the union organization tree."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model


class EnterpriseType(enum.StrEnum):
    STATE_OWNED = "state_owned"
    NON_PUBLIC = "non_public"
    PUBLIC_INSTITUTION = "public_institution"
    NEW_EMPLOYMENT = "new_employment"


class IndustryGroup(enum.StrEnum):
    CHAIN = "chain"  # one of the "1269" plan's 12 key industrial chains
    CLUSTER = "cluster"  # one of its 6 advanced manufacturing clusters


class OrgLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    PARK = "park"
    ENTERPRISE = "enterprise"


class City(Model):
    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(64))
    # 赣江新区 is addressed beside the 11 prefecture-level cities but is not one of them.
    is_prefecture: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class Industry(Model):
    __tablename__ = "industries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    group: Mapped[IndustryGroup] = mapped_column(Enum(IndustryGroup, native_enum=False, length=16))
    sort_order: Mapped[int] = mapped_column(default=0)


class Organization(Model):
    """A union organization. ``path`` is the chain of ids from the root ("/1/4/17/") for subtree queries."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[OrgLevel] = mapped_column(Enum(OrgLevel, native_enum=False, length=16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True, default="")
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"))
    enterprise_type: Mapped[EnterpriseType | None] = mapped_column(Enum(EnterpriseType, native_enum=False, length=24))

    parent: Mapped[Organization | None] = relationship(remote_side=[id])
    city: Mapped[City | None] = relationship()

    def contains(self, other: Organization | None) -> bool:
        """True when ``other`` is this organization or lies below it."""
        return other is not None and other.path.startswith(self.path)
