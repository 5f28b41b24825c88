"""Behind nginx: fingerprinted static names (cached for a year by nginx) and exactly one trusted proxy hop."""

import hashlib
import re
from pathlib import Path

from flask import request

from app import create_app
from tests.conftest import TEST_CONFIG

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def test_pages_link_static_files_by_a_name_that_changes_with_their_content(client):
    page = client.get("/").get_data(as_text=True)
    digest = hashlib.sha256((STATIC / "app.css").read_bytes()).hexdigest()[:12]
    assert f"/static/app.{digest}.css" in page
    assert not re.search(r'href="/static/app\.css"', page)
    served = client.get(f"/static/app.{digest}.css")
    assert served.status_code == 200 and served.data == (STATIC / "app.css").read_bytes()
    assert client.get("/static/app.css").status_code == 200  # the plain name still works
    assert client.get("/static/app.000000000000.css").status_code == 404  # a stale or made-up fingerprint


def test_one_trusted_hop_ignores_what_the_client_put_before_it(database_url):
    behind_nginx = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXY_COUNT": 1})

    @behind_nginx.get("/test/address")
    def address():  # type: ignore[no-untyped-def]
        return {"address": request.remote_addr, "secure": request.is_secure}

    client = behind_nginx.test_client()
    # nginx overwrites X-Forwarded-For with the address it saw; a client's own value before it is not believed.
    spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto": "https"}
    assert client.get("/test/address", headers=spoofed).json == {"address": "203.0.113.7", "secure": True}

    direct = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})

    @direct.get("/test/address")
    def direct_address():  # type: ignore[no-untyped-def]
        return {"address": request.remote_addr}

    assert direct.test_client().get("/test/address", headers=spoofed).json == {"address": "127.0.0.1"}
