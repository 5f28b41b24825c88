"""A refused form shows an error summary on top linking to each field, and keeps what was typed (issue 21, item 7)."""

from __future__ import annotations

from tests.trips.factories import make_route


def test_an_organizer_form_refused_shows_the_summary_and_keeps_the_values(admin_client) -> None:  # type: ignore[no-untyped-def]
    route = make_route()
    response = admin_client.post(
        f"/organizer/trips/routes/{route.id}/departures/new", data={"seats": "abc", "venue": "南昌西站"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    summary = html[html.index('id="error-summary"') : html.index("</div>", html.index('id="error-summary"'))]
    assert 'href="#seats"' in summary
    assert html.index('id="error-summary"') < html.index("<form", html.index("<main"))
    assert 'value="南昌西站"' in html


def test_a_page_without_errors_has_no_summary(client) -> None:  # type: ignore[no-untyped-def]
    assert 'id="error-summary"' not in client.get("/account/register").get_data(as_text=True)
