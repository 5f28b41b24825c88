"""Demo cover pictures drawn here with Pillow (no download): a few upcoming events, and every published trip
route, get a described cover."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from sqlalchemy import select

from .. import clock
from ..events.covers import store_picture
from ..events.models import Event
from ..extensions import db
from ..trips.models import Theme, TripRoute

# (sky colour, ground colour, description) for each kind of scene.
_SCENES = {
    "mixer": ((250, 214, 165), (179, 38, 30), "夕阳下的江边联谊会场"),
    "screening": ((214, 234, 248), (20, 83, 45), "停在工业园区里的健康体检车"),
    "trip": ((190, 220, 240), (46, 125, 50), "青山绿水间的疗休养线路"),
    "general": ((236, 231, 239), (23, 59, 115), "职工活动中心的活动现场"),
}

# The description of each theme's drawn route cover.
_ROUTE_ALTS = {
    Theme.RED: "青山前的革命纪念碑和一面红旗",
    Theme.GREEN: "云雾缭绕的层层青山",
    Theme.HERITAGE: "白墙黛瓦的古村落",
}


def _png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def _scene(sky: tuple[int, int, int], ground: tuple[int, int, int]) -> bytes:
    picture = Image.new("RGB", (1200, 675), sky)
    draw = ImageDraw.Draw(picture)
    draw.ellipse((860, 80, 1010, 230), fill=(255, 244, 214))
    draw.polygon([(0, 675), (0, 430), (300, 260), (620, 460), (900, 300), (1200, 470), (1200, 675)], fill=ground)
    return _png(picture)


def _route_scene(theme: Theme) -> bytes:
    """A theme's landscape: a monument with a red flag, misty green ridges, or white houses with dark roofs."""
    picture = Image.new("RGB", (1200, 675), (200, 225, 242))
    draw = ImageDraw.Draw(picture)
    if theme == Theme.RED:
        draw.polygon([(0, 675), (0, 470), (350, 330), (700, 480), (1200, 380), (1200, 675)], fill=(46, 110, 60))
        draw.rectangle((540, 190, 620, 560), fill=(236, 232, 224))
        draw.polygon([(530, 190), (580, 110), (630, 190)], fill=(236, 232, 224))
        draw.rectangle((470, 540, 690, 590), fill=(200, 194, 184))
        draw.line((760, 200, 760, 520), fill=(90, 90, 90), width=8)
        draw.rectangle((764, 200, 904, 290), fill=(200, 30, 30))
    elif theme == Theme.GREEN:
        ridges = [((120, 170, 140), 260), ((70, 140, 95), 400), ((35, 105, 60), 520)]
        for index, (colour, top) in enumerate(ridges):
            points = (
                [(0, 675)] + [(x, top + (90 if (x // 200) % 2 else 0)) for x in range(0, 1201, 200)] + [(1200, 675)]
            )
            draw.polygon(points, fill=colour)
            if index == 0:  # the mist in front of the far ridge
                draw.rectangle((0, 380, 1200, 430), fill=(232, 240, 244))
    else:
        draw.rectangle((0, 520, 1200, 675), fill=(120, 150, 110))
        for left in (120, 470, 820):
            draw.rectangle((left, 330, left + 260, 540), fill=(245, 245, 240))
            draw.polygon([(left - 30, 340), (left + 130, 250), (left + 290, 340)], fill=(50, 55, 65))
            draw.rectangle((left + 105, 440, left + 155, 540), fill=(80, 60, 45))
    return _png(picture)


def seed_demo() -> None:
    """Give the first few upcoming events of each kind without a cover a drawn one, and every published trip
    route without a cover its theme's drawn one (idempotent: covered ones are left as they are)."""
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
    routes = db.session.scalars(
        select(TripRoute).where(TripRoute.published.is_(True), TripRoute.cover_image.is_(None)).order_by(TripRoute.id)
    ).unique()
    drawn: dict[Theme, str] = {}
    for route in routes:
        if route.theme not in drawn:
            drawn[route.theme] = store_picture(_route_scene(route.theme))
        route.cover_image, route.cover_alt = drawn[route.theme], _ROUTE_ALTS[route.theme]
    db.session.flush()
