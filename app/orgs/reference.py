"""Reference facts of Jiangxi province (DESIGN.md §3), seeded idempotently by ``seed_reference_data``."""

from __future__ import annotations

from .models import EnterpriseType, IndustryGroup

# (code, name, English name, is a prefecture-level city)
CITIES: list[tuple[str, str, str, bool]] = [
    ("nanchang", "南昌", "Nanchang", True),
    ("jingdezhen", "景德镇", "Jingdezhen", True),
    ("pingxiang", "萍乡", "Pingxiang", True),
    ("jiujiang", "九江", "Jiujiang", True),
    ("xinyu", "新余", "Xinyu", True),
    ("yingtan", "鹰潭", "Yingtan", True),
    ("ganzhou", "赣州", "Ganzhou", True),
    ("jian", "吉安", "Ji'an", True),
    ("yichun", "宜春", "Yichun", True),
    ("fuzhou", "抚州", "Fuzhou", True),
    ("shangrao", "上饶", "Shangrao", True),
    ("ganjiang", "赣江新区", "Ganjiang New Area", False),
]

# The "1269" plan: 12 key industrial chains and 6 advanced manufacturing clusters.
INDUSTRIES: list[tuple[str, str, str, IndustryGroup]] = [
    ("chain-electronics", "电子信息", "Electronic information", IndustryGroup.CHAIN),
    ("chain-nonferrous", "有色金属", "Non-ferrous metals", IndustryGroup.CHAIN),
    ("chain-equipment", "装备制造", "Equipment manufacturing", IndustryGroup.CHAIN),
    ("chain-new-energy", "新能源", "New energy", IndustryGroup.CHAIN),
    ("chain-petrochemical", "石化化工", "Petrochemicals", IndustryGroup.CHAIN),
    ("chain-building-materials", "建材", "Building materials", IndustryGroup.CHAIN),
    ("chain-steel", "钢铁", "Steel", IndustryGroup.CHAIN),
    ("chain-aviation", "航空", "Aviation", IndustryGroup.CHAIN),
    ("chain-food", "食品", "Food", IndustryGroup.CHAIN),
    ("chain-textile", "纺织服装", "Textiles and garments", IndustryGroup.CHAIN),
    ("chain-pharma", "医药", "Pharmaceuticals", IndustryGroup.CHAIN),
    ("chain-furniture", "现代家具", "Modern furniture", IndustryGroup.CHAIN),
    ("cluster-electronics", "电子信息", "Electronic information", IndustryGroup.CLUSTER),
    ("cluster-copper", "铜基新材料", "Copper-based new materials", IndustryGroup.CLUSTER),
    ("cluster-lithium-pv", "锂电和光伏新能源", "Lithium battery and photovoltaic energy", IndustryGroup.CLUSTER),
    ("cluster-tungsten-rare-earth", "钨和稀土金属新材料", "Tungsten and rare-earth materials", IndustryGroup.CLUSTER),
    ("cluster-aviation", "航空", "Aviation", IndustryGroup.CLUSTER),
    ("cluster-refining", "炼化一体化和化工新材料", "Integrated refining and chemical materials", IndustryGroup.CLUSTER),
]

ENTERPRISE_TYPE_LABELS: dict[EnterpriseType, str] = {
    EnterpriseType.STATE_OWNED: "国有企业",
    EnterpriseType.NON_PUBLIC: "非公企业",
    EnterpriseType.PUBLIC_INSTITUTION: "事业单位",
    EnterpriseType.NEW_EMPLOYMENT: "新就业形态劳动者",
}

PROVINCE_ORG_CODE = "jx"
PROVINCE_ORG_NAME = "江西省总工会"


def city_org_code(city_code: str) -> str:
    return f"jx-{city_code}"


def city_org_name(city_name: str) -> str:
    return f"{city_name}市总工会" if city_name != "赣江新区" else "赣江新区工会"
