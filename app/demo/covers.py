"""Demo cover pictures drawn here with Pillow (no download): a few upcoming events get a described cover."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from sqlalchemy import select

from .. import clock
from ..events.covers import store_picture
from ..events.models import Event
from ..extensions import db

# (sky colour, ground colour, description) for each kind of scene.
_SCENES = {
    "mixer": ((250, 214, 165), (179, 38, 30), "夕阳下的江边联谊会场"),
    "screening": ((214, 234, 248), (20, 83, 45), "停在工业园区里的健康体检车"),
    "trip": ((190, 220, 240), (46, 125, 50), "青山绿水间的疗休养线路"),
    "general": ((236, 231, 239), (23, 59, 115), "职工活动中心的活动现场"),
}


def _scene(sky: tuple[int, int, int], ground: tuple[int, int, int]) -> bytes:
    picture = Image.new("RGB", (1200, 675), sky)
    draw = ImageDraw.Draw(picture)
    draw.ellipse((860, 80, 1010, 230), fill=(255, 244, 214))
    draw.polygon([(0, 675), (0, 430), (300, 260), (620, 460), (900, 300), (1200, 470), (1200, 675)], fill=ground)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def seed_demo() -> None:
    """Give the first few upcoming events of each kind without a cover a drawn one (idempotent)."""
    for kind, (sky, ground, alt) in _SCENES.items():
        events = db.session.scalars(
            select(Event)
            .where(Event.kind == kind, Event.cover_image.is_(None), Event.starts_at > clock.now())
            .order_by(Event.starts_at)
            .limit(3)
        ).unique()
        name = None
        for event in events:
            name = name or store_picture(_scene(sky, ground))
            event.cover_image, event.cover_alt = name, alt
    db.session.flush()
