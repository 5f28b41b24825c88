"""Cover pictures: checked, re-encoded and resized with Pillow, described, cached for long (issue 21, item 10)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.errors import InvalidInput
from app.events import covers
from tests import factories


@pytest.fixture(autouse=True)
def media(app, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path))
    monkeypatch.setitem(app.config, "COVER_MAX_BYTES", 5 * 1024 * 1024)


def _picture(kind: str = "PNG", size: tuple[int, int] = (2000, 1000)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (179, 38, 30)).save(buffer, kind)
    return buffer.getvalue()


def test_an_upload_is_reencoded_into_small_sizes_named_by_content(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    name = covers.store_picture(_picture())
    thumb = Image.open(tmp_path / f"{name}-thumb.jpg")
    full = Image.open(tmp_path / f"{name}-full.jpg")
    assert thumb.format == "JPEG" and thumb.size == (480, 240)
    assert full.size == (1200, 600)
    assert covers.store_picture(_picture()) == name


@pytest.mark.parametrize(
    "data",
    [b"", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a" + b"\x00" * 20, b"\xff\xd8\xff" + b"\x00" * 50],
)
def test_anything_but_a_real_picture_is_refused(app, tmp_path, data: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput):
        covers.store_picture(data)
    assert list(tmp_path.iterdir()) == []


def test_too_large_and_gif_are_refused(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app.config["COVER_MAX_BYTES"] = 1000
    with pytest.raises(InvalidInput, match="MB"):
        covers.store_picture(_picture())
    app.config["COVER_MAX_BYTES"] = 5 * 1024 * 1024  # restored by the fixture after the test too
    with pytest.raises(InvalidInput, match="JPEG"):
        covers.store_picture(_picture("GIF", (10, 10)))


def test_an_organizer_sets_a_described_cover_and_it_is_served_with_long_cache(  # type: ignore[no-untyped-def]
    app, tmp_path, organizer_client, organizer
) -> None:
    event = factories.make_event()
    refused = organizer_client.post(
        f"/organizer/events/{event.id}/cover", data={"picture": (io.BytesIO(_picture()), "a.png"), "alt": " "}
    )
    assert refused.status_code == 302 and event.cover_image is None
    organizer_client.post(
        f"/organizer/events/{event.id}/cover",
        data={"picture": (io.BytesIO(_picture()), "a.png"), "alt": "赣江边的联谊会场"},
    )
    assert event.cover_image and event.cover_alt == "赣江边的联谊会场"
    html = organizer_client.get("/events/").get_data(as_text=True)
    assert 'alt="赣江边的联谊会场"' in html and 'loading="lazy"' in html
    picture = organizer_client.get(f"/events/media/{event.cover_image}-thumb.jpg")
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    assert "max-age=31536000" in picture.headers["Cache-Control"]
    assert organizer_client.get("/events/media/..%2Fsecret_key").status_code == 404


def test_another_organizations_event_answers_404(app, tmp_path, organizer_client) -> None:  # type: ignore[no-untyped-def]
    other = factories.make_event(organization=factories.org("jx-ganzhou"))
    response = organizer_client.post(
        f"/organizer/events/{other.id}/cover", data={"picture": (io.BytesIO(_picture()), "a.png"), "alt": "x"}
    )
    assert response.status_code == 404


def test_the_demo_draws_its_own_covers(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.demo.covers import seed_demo

    event = factories.make_event(kind="general")
    seed_demo()
    seed_demo()  # idempotent
    assert event.cover_image and event.cover_alt
    assert (tmp_path / f"{event.cover_image}-thumb.jpg").is_file()
