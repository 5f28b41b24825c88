"""The dashboard, its CSV exports, suppression beyond an organizer's own rosters, and the public page."""

from __future__ import annotations

import csv
import io
import re

from flask.testing import FlaskClient

from app.extensions import db
from app.spreadsheets import neutralise
from app.stats import services
from tests import factories


def staff_client(app, user) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    factories.login(client, user)
    return client


def test_admin_dashboard_shows_headline_charts_and_tables(app, dataset) -> None:
    client = staff_client(app, factories.make_admin())
    page = client.get("/stats/?year=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index("牵手成功") < html.index("<svg")  # headline figures first, then charts
    assert html.count('<svg class="chart"') == 2
    assert 'role="img"' in html and '<title id="chart-city-title">' in html
    assert '<caption id="t-city-caption">' in html and '<caption id="t-month-caption">' in html
    # The city chart draws attendances (南昌: M1 3 + S1 3; 九江: M2 2 + T1 1), the same numbers as its table.
    drawn = dict(re.findall(r">([^<>]+)</text><rect[^>]*/><text[^>]*>([^<]*)</text>", html))
    assert drawn["南昌"] == "6" and drawn["九江"] == "3" and drawn["赣州"] == "0"
    points = re.findall(r'<polyline points="([^"]+)"', html)
    assert len(points) == 2 and all(len(p.split()) == 12 for p in points)  # sign-ups and attendances by month
    # Phone width: the charts scale with their viewBox; nothing on the page fixes a width in pixels.
    assert not re.search(r'<svg[^>]*\swidth="', html)
    assert "style=" not in html
    css = app.open_resource("static/stats.css").read().decode()
    assert not re.search(r"(?<![-\w])(min-)?width:\s*(\d{3,})px", css)
    assert "统计" in html and 'href="/stats/"' in html  # the nav entry


def test_employees_and_strangers_cannot_open_the_dashboard(app, dataset, client, employee_client) -> None:
    assert client.get("/stats/").status_code == 302  # to the login page
    assert employee_client.get("/stats/").status_code == 404
    assert employee_client.get("/stats/export/city.csv").status_code == 404


def test_organizer_sees_own_subtree_exactly_and_province_suppressed(app, dataset) -> None:
    organizer = factories.make_organizer("jx-nanchang")
    client = staff_client(app, organizer)
    own = client.get("/stats/?year=2026").get_data(as_text=True)
    assert "南昌市总工会" in own and "&lt;5" not in own
    other = factories.org("jx-jiujiang").id
    assert client.get(f"/stats/?year=2026&org={other}").status_code == 404
    province = factories.org("jx").id
    page = client.get(f"/stats/?year=2026&org={province}").get_data(as_text=True)
    assert "超出您所管理组织的范围" in page and "&lt;5" in page
    exported = client.get(f"/stats/export/gender.csv?year=2026&org={province}").get_data(as_text=True)
    assert "<5" in exported and "小于 5 的数字已隐去" in exported
    assert "单身联谊" in client.get("/stats/?year=2026&kind=mixer").get_data(as_text=True)
    figures = services.dashboard(organizer, year=2026, org_id=province)
    assert figures.suppressed
    mixer = {item.key: item.cell.text for s in figures.sections if s.key == "mixer" for item in s.items}
    assert mixer == {"held": "2", "signups": "7", "attendees": "5", "people": "<5", "pairs": "<5", "couples": "<5"}
    # Gender, attended: female 7, male 2 → male hidden, and female hidden too (else 9 − 7 would give it away).
    gender = {row.label: [c.text for c in row.cells] for row in figures.tables["gender"].rows}
    assert gender["男"][2] == "<5" and gender["女"][2] == "<5*"
    assert gender["女"][0] == "10" and gender["男"][0] == "7"
    cities = {row.label: [c.text for c in row.cells] for row in figures.tables["city"].rows}
    assert cities["南昌"][0] == "2"  # numbers of events are not about people: never hidden
    rates = {item.key: item.cell.text for s in figures.sections if s.key == "all" for item in s.items}
    assert rates["no_show_rate"] == "25.0%"  # 12 people behind the rate: shown


def test_threshold_comes_from_the_config(app, dataset) -> None:
    app.config["STATS_SUPPRESSION_THRESHOLD"] = 2
    try:
        figures = services.public_figures(2026)
        mixer = {item.key: item.cell.text for s in figures.sections if s.key == "mixer" for item in s.items}
        assert mixer["pairs"] == "2" and mixer["couples"] == "<2"
    finally:
        app.config["STATS_SUPPRESSION_THRESHOLD"] = 5


def test_csv_export_of_every_table(app, dataset) -> None:
    client = staff_client(app, factories.make_admin())
    for key in services.TABLE_KEYS:
        response = client.get(f"/stats/export/{key}.csv?year=2026")
        assert response.status_code == 200, key
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        assert len(rows) > 1
    city = client.get("/stats/export/city.csv?year=2026").get_data(as_text=True).lstrip("\ufeff")
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(city))}
    assert rows["范围"] == ["江西省总工会", "2026-01-01~2026-12-31"]
    assert rows["南昌"] == ["2", "10", "9", "6", "2", "1", "2"]
    assert client.get("/stats/export/people.csv").status_code == 404


def test_export_neutralises_spreadsheet_formulas(app, dataset) -> None:
    assert neutralise("=1+2") == "'=1+2" and neutralise("+86") == "'+86" and neutralise("-3") == "'-3"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)" and neutralise("\tx") == "'\tx" and neutralise("南昌") == "南昌"
    factories.org("jx-nanchang").name = '=HYPERLINK("http://evil")'
    db.session.commit()
    client = staff_client(app, factories.make_admin())
    org_id = factories.org("jx-nanchang").id
    text = client.get(f"/stats/export/headline.csv?year=2026&org={org_id}").get_data(as_text=True)
    first = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert first[1] == '\'=HYPERLINK("http://evil")'


def test_bad_filters_show_a_message_not_an_error(app, dataset) -> None:
    client = staff_client(app, factories.make_admin())
    for query in ("year=abc", "year=1800", "kind=party", "start=2026-05-01&end=2026-04-01", "start=nonsense"):
        response = client.get(f"/stats/?{query}")
        assert response.status_code == 200, query
        assert 'class="flash flash-error"' in response.get_data(as_text=True), query


def test_public_page_needs_no_login_and_shows_province_headline(client, dataset) -> None:
    response = client.get("/stats/public?year=2026")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2026 年全省服务成效" in html and "江西省总工会" in html
    assert "两癌筛查" in html and "&lt;5" in html  # 2 two-cancer screenings in the dataset: hidden
    assert "测试职工" not in html  # no names
    assert client.get("/stats/public?year=99999").status_code == 200
