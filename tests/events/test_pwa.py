"""The web app manifest and the service worker are served from the root (issue 21, item 12)."""

from __future__ import annotations


def test_manifest_and_service_worker(client) -> None:  # type: ignore[no-untyped-def]
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert {icon["src"] for icon in manifest.get_json()["icons"]} >= {"/static/icon-192.png", "/static/icon-512.png"}
    for icon in ("/static/icon-192.png", "/static/icon-512.png", "/static/offline.html"):
        assert client.get(icon).status_code == 200
    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript" and worker.headers["Cache-Control"] == "no-cache"
    assert "PAGE_CACHE" in worker.get_data(as_text=True)
    assert 'rel="manifest"' in client.get("/").get_data(as_text=True)
