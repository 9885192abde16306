"""Static files: fingerprinted URLs, a year of caching for the current fingerprint only."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from app.static_files import IMMUTABLE, Fingerprints, fingerprint

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = ["css/app.css", "js/app.js", "vendor/htmx.min.js", "favicon.svg"]


def _content_hash(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def test_pages_link_assets_by_content_hash(client):
    body = client.get("/login").get_data(as_text=True)
    for name in ASSETS:
        assert f'"/static/{name}?v={_content_hash(name)}"' in body, name
    # The CSP still allows them: scripts come only from our own origin, none inline.
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert not re.search(r"<script(?![^>]*\ssrc=\"/static/)", body)


@pytest.mark.parametrize("name", ASSETS)
def test_the_fingerprinted_url_is_cached_for_a_year(client, name):
    response = client.get(f"/static/{name}?v={_content_hash(name)}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.get_data() == (STATIC / name).read_bytes()


@pytest.mark.parametrize("query", ["", "?v=000000000000", "?v="])
def test_without_the_current_hash_it_is_served_but_revalidated(client, query):
    response = client.get(f"/static/css/app.css{query}")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]
    assert "max-age=31536000" not in response.headers["Cache-Control"]


def test_a_changed_file_gets_a_new_url(tmp_path):
    asset = tmp_path / "css" / "app.css"
    asset.parent.mkdir()
    asset.write_text("body { color: black }")
    before = Fingerprints(str(tmp_path), debug=False).get("css/app.css")
    assert before == fingerprint(asset)
    asset.write_text("body { color: navy }")
    after = Fingerprints(str(tmp_path), debug=False).get("css/app.css")
    assert after == hashlib.sha256(asset.read_bytes()).hexdigest()[:12] != before
    # In debug mode the running server notices the change without a restart.
    live = Fingerprints(str(tmp_path), debug=True)
    asset.write_text("body { color: teal }")
    assert live.get("css/app.css") == fingerprint(asset) not in (before, after)


def test_no_fingerprint_for_files_outside_the_static_folder(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "secret.txt").write_text("no")
    prints = Fingerprints(str(tmp_path / "static"), debug=False)
    assert prints.get("../secret.txt") is None
    assert prints.get("missing.css") is None
