"""row_url and tag_url build exactly what url_for builds, from one build per process and root."""

from __future__ import annotations

import pytest
from flask import url_for

from app.urls import row_url, tag_url
from tests.helpers import add_task


@pytest.mark.parametrize("endpoint", ["tasks.toggle", "tasks.detail", "tasks.edit", "tasks.delete"])
def test_row_url_matches_url_for(app, endpoint):
    with app.test_request_context("/", base_url="http://example.com/prefix"):
        for task_id in (1, 42, 2**31 - 1):
            assert row_url(endpoint, task_id) == url_for(endpoint, task_id=task_id)
        assert row_url("tasks.index") == url_for("tasks.index")


def test_row_url_follows_each_requests_application_root(app):
    for root in ("", "/prefix", "/other/root", ""):
        with app.test_request_context("/", base_url=f"http://example.com{root}"):
            assert (
                row_url("tasks.edit", 7)
                == f"{root}/tasks/7/edit"
                == url_for("tasks.edit", task_id=7)
            )
            assert row_url("tasks.index") == f"{root}/tasks"


def test_pages_served_under_different_roots_link_within_their_own(app, auth_client):
    """Through the WSGI app (as gunicorn calls it): row links follow each request's root."""
    task_id = add_task(app, title="Rooted")
    for root in ("/prefix", "", "/other/root", "/prefix"):
        page = auth_client.get("/tasks", base_url=f"http://localhost{root}").get_data(as_text=True)
        assert f'href="{root}/tasks/{task_id}/edit"' in page
        assert f'"{root}/tasks/{task_id}/toggle"' in page
        other_roots = {"/prefix", "/other/root"} - {root}
        assert not any(f"{other}/tasks/{task_id}" in page for other in other_roots)


def test_tag_url_links_to_the_filtered_list(app, client):
    with app.test_request_context("/"):
        for name in ("work", "Home & garden", "été/2026"):
            url = tag_url(name)
            assert url.startswith(url_for("tasks.index") + "?tag=")
            with app.test_request_context(url):
                from flask import request

                assert request.args.getlist("tag") == [name]


def test_templates_are_compiled_once_outside_debug(app):
    # Flask follows debug when TEMPLATES_AUTO_RELOAD is unset: no stat() of every template
    # on every render in production.
    assert not app.debug
    assert app.config.get("TEMPLATES_AUTO_RELOAD") is None
    assert app.jinja_env.auto_reload is False
