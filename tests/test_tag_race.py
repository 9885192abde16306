"""Tags created by name from several requests at once (quick add, the editor, bulk tagging):
under a real gunicorn, on both databases, every request is answered and there is one tag."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Tag, Task, User
from tests.helpers import PASSWORD, create_user, inbox_of
from tests.live import Client, all_at_once, gunicorn

pytestmark = pytest.mark.security
HX = {"HX-Request": "true"}
CLIENTS = 8


def _at_once(base, cookies, token, request) -> list:
    """Run `request(client, n)` from CLIENTS threads released together by a barrier."""

    def call(n):
        client = Client(base)
        client.cookies = dict(cookies)
        return lambda: request(client, n, token)

    return all_at_once([call(n) for n in range(CLIENTS)])


def _signed_in(base):
    owner = Client(base)
    assert owner.login("ada@example.com", PASSWORD).status == 302
    token = owner.csrf("/tasks")  # may set the session cookie: read the cookies after
    return dict(owner.cookies), token


def _tags_and_tasks(app):
    with app.app_context():
        tags = [tag.name for tag in db.session.scalars(select(Tag))]
        tasks = {
            task.title: [tag.name for tag in task.tags]
            for task in db.session.scalars(select(Task).options(selectinload(Task.tags)))
        }
        return tags, tasks


def test_quick_adds_creating_the_same_new_tag_at_once(app, database_url):
    create_user(app)
    with gunicorn(database_url, workers=2, threads=4) as base:
        cookies, token = _signed_in(base)

        def quick_add(client, n, token):
            form = {"title": f"something {n} #newtag", "csrf_token": token}
            return client.request("POST", "/tasks", form, HX).status

        statuses = _at_once(base, cookies, token, quick_add)
    assert statuses == [200] * CLIENTS, statuses
    tags, tasks = _tags_and_tasks(app)
    assert tags == ["newtag"]
    assert tasks == {f"something {n}": ["newtag"] for n in range(CLIENTS)}


def _add_tasks(app, n) -> list[int]:
    with app.app_context():
        owner, inbox = inbox_of()
        tasks = [Task(project_id=inbox, created_by_id=owner, title=f"task {i}") for i in range(n)]
        db.session.add_all(tasks)
        db.session.commit()
        return [task.id for task in tasks]


def test_editors_naming_the_same_new_tag_at_once(app, database_url):
    create_user(app)
    ids = _add_tasks(app, CLIENTS)
    with gunicorn(database_url, workers=2, threads=4) as base:
        cookies, token = _signed_in(base)

        def save(client, n, token):
            form = {
                "title": f"task {n}",
                "tags": f"Shared, mine{n}, #Other",
                "priority": "0",
                "interval": "1",
                "version": "1",
                "csrf_token": token,
            }
            return client.request("POST", f"/tasks/{ids[n]}", form, HX).status

        statuses = _at_once(base, cookies, token, save)
    assert statuses == [200] * CLIENTS, statuses
    tags, tasks = _tags_and_tasks(app)
    assert sorted(tags) == sorted(["Shared", "Other", *(f"mine{n}" for n in range(CLIENTS))])
    assert tasks == {f"task {n}": ["mine" + str(n), "Other", "Shared"] for n in range(CLIENTS)}


@pytest.mark.parametrize("existing", [False, True], ids=["new-tag", "existing-tag"])
def test_bulk_tagging_the_same_tasks_at_once(app, database_url, existing):
    create_user(app)
    ids = _add_tasks(app, 3)
    if existing:  # then nothing orders the requests before they add the same task_tags rows
        with app.app_context():
            db.session.add(Tag(owner_id=db.session.scalar(select(User.id)), name="Sprint"))
            db.session.commit()
    with gunicorn(database_url, workers=2, threads=4) as base:
        cookies, token = _signed_in(base)

        def tag(client, n, token):
            form = {"ids": ids, "action": "tag_add", "tag": "#Sprint", "csrf_token": token}
            response = client.request("POST", "/tasks/bulk", form, HX)
            changed = re.search(r"Updated (\d+) task", response.body)
            return response.status, int(changed.group(1)) if changed else None

        results = _at_once(base, cookies, token, tag)
    assert [status for status, _ in results] == [200] * CLIENTS, results
    # Each task was tagged once, by one of the requests; the others found it tagged.
    assert sum(changed for _, changed in results) == len(ids), results
    tags, tasks = _tags_and_tasks(app)
    assert tags == ["Sprint"]
    assert tasks == {f"task {i}": ["Sprint"] for i in range(3)}
    with app.app_context():
        versions = db.session.scalars(select(Task.version).order_by(Task.id)).all()
    assert versions == [2, 2, 2]
