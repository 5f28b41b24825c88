"""Check-in from a photo of the ticket's QR code, read on the server with zxing-cpp (issue 21, item 13)."""

from __future__ import annotations

import io

import pytest
import segno
from PIL import Image

from app.booking import services as booking
from app.booking.models import Status
from app.errors import InvalidInput
from app.organizer import photo_scan
from tests import factories


def qr_photo(text: str, kind: str = "jpeg") -> bytes:
    """A phone-like photo: the QR code small on a big grey background, saved as a JPEG."""
    code = io.BytesIO()
    segno.make(text, error="m").save(code, kind="png", scale=6, border=4)
    photo = Image.new("RGB", (2400, 1800), (120, 120, 120))
    photo.paste(Image.open(io.BytesIO(code.getvalue())).convert("RGB"), (900, 600))
    out = io.BytesIO()
    photo.save(out, kind)
    return out.getvalue()


def test_the_code_is_read_from_a_photo() -> None:
    assert photo_scan.ticket_code_from_photo(qr_photo("a1b2c3d4e5f6a7b8")) == "a1b2c3d4e5f6a7b8"


@pytest.mark.parametrize("data", [b"", b"not a picture at all"])
def test_no_picture_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        photo_scan.ticket_code_from_photo(data)


def test_a_picture_without_a_qr_code_is_refused() -> None:
    blank = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 255, 255)).save(blank, "PNG")
    with pytest.raises(InvalidInput, match="二维码"):
        photo_scan.ticket_code_from_photo(blank.getvalue())


def test_a_photo_checks_the_ticket_in_and_another_orgs_event_is_404(organizer_client) -> None:  # type: ignore[no-untyped-def]
    event = factories.make_event(
        starts_in=factories.STARTS_SOON,
    )
    registration = booking.book(factories.make_employee(name="王芳"), event.slots[0].id)
    response = organizer_client.post(
        f"/organizer/events/{event.id}/checkin/photo",
        data={"photo": (io.BytesIO(qr_photo(registration.ticket_code)), "ticket.jpg")},
    )
    assert response.status_code == 200 and "签到成功" in response.get_data(as_text=True)
    assert registration.status == Status.ATTENDED
    other = factories.make_event(starts_in=factories.STARTS_SOON, organization=factories.org("jx-ganzhou"))
    refused = organizer_client.post(
        f"/organizer/events/{other.id}/checkin/photo",
        data={"photo": (io.BytesIO(qr_photo(registration.ticket_code)), "ticket.jpg")},
    )
    assert refused.status_code == 404
