"""A project's activity log: every write leaves its event (who, what, which task), bulk
actions record set-based, and the page shows the newest events with keyset "Load more",
escaped, to the project's members only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select

from app import activity
from app.extensions import db
from app.models import Activity, Invitation, Role, Task, utcnow
from tests.helpers import (
    HTMX,
    PASSWORD,
    account_post,
    add_member,
    add_project,
    add_task,
    admin_client,
    admin_post,
    count_queries,
    create_user,
    csrf_token,
    get_task,
    inbox_of,
    login,
    post,
    post_form,
    user_id,
)


@pytest.fixture
def team(app):
    """Ada's project "Team": Bob edits, Dee views; Eve is outside."""
    for email, name in (
        ("ada@example.com", "Ada"),
        ("bob@example.com", "Bob"),
        ("dee@example.com", "Dee"),
        ("eve@example.com", "Eve"),
    ):
        create_user(app, email=email, name=name)
    project_id = add_project(app, "ada@example.com", "Team")
    add_member(app, project_id, "bob@example.com", Role.EDITOR)
    add_member(app, project_id, "dee@example.com", Role.VIEWER)
    return project_id


def signed_in(app, email):
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    return client


def events(app, project_id) -> list[tuple[str, str, str, str]]:
    """The project's events, newest first, as (actor name, action, task title, detail)."""
    with app.app_context():
        rows = db.session.execute(
            select(Activity.actor_name, Activity.action, Activity.task_title, Activity.detail)
            .where(Activity.project_id == project_id)
            .order_by(Activity.id.desc())
        )
        return [tuple(row) for row in rows]


def page_text(response) -> str:
    """The page's words, tags dropped and spaces squeezed: what a reader sees."""
    body = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def activity_url(project_id, **args) -> str:
    query = "&".join(f"{key}={value}" for key, value in args.items())
    return f"/projects/{project_id}/activity" + (f"?{query}" if query else "")


def editor_data(app, task_id, **changes):
    task = get_task(app, task_id)
    return {"title": task.title, "priority": "0", "version": str(task.version), **changes}


# ---- recording ---------------------------------------------------------------------------


def test_each_write_to_a_task_leaves_its_event(app, team):
    bob = signed_in(app, "bob@example.com")
    assert post(bob, "/tasks", {"title": "Plan the offsite", "project_id": team}).status_code == 303
    with app.app_context():
        task = db.session.scalar(select(Task.id).where(Task.title == "Plan the offsite"))
    changes = {"title": "Plan it", "priority": "3", "due_date": "2031-05-06", "tags": "work"}
    assert post(bob, f"/tasks/{task}", editor_data(app, task, **changes)).status_code == 303
    assert post(bob, f"/tasks/{task}/toggle", {"done": "1"}).status_code == 303
    assert post(bob, f"/tasks/{task}/toggle", {"done": ""}).status_code == 303
    assert post(bob, f"/tasks/{task}/delete").status_code == 303
    assert post(bob, "/tasks/restore", {"ids": str(task)}).status_code == 303

    assert events(app, team) == [
        ("Bob", "restored", "Plan it", ""),
        ("Bob", "deleted", "Plan it", ""),
        ("Bob", "reopened", "Plan it", ""),
        ("Bob", "completed", "Plan it", ""),
        ("Bob", "edited", "Plan it", "title, priority High, due 2031-05-06, tags"),
        ("Bob", "added", "Plan the offsite", ""),
    ]


def test_a_save_that_changes_nothing_and_a_second_tick_record_nothing(app, team):
    task = add_task(app, title="Quiet", project_id=team, done=True)
    bob = signed_in(app, "bob@example.com")
    assert post(bob, f"/tasks/{task}", editor_data(app, task)).status_code == 303
    assert post(bob, f"/tasks/{task}/toggle", {"done": "1"}).status_code == 303
    assert events(app, team) == []


def test_completing_a_repeating_task_records_its_next_occurrence(app, team):
    due = utcnow().date()
    task = add_task(app, title="Stand-up", project_id=team, recurrence="FREQ=DAILY", due_date=due)
    bob = signed_in(app, "bob@example.com")
    assert post(bob, f"/tasks/{task}/toggle", {"done": "1"}).status_code == 303
    assert events(app, team) == [
        ("Bob", "added", "Stand-up", "next in its series"),
        ("Bob", "completed", "Stand-up", ""),
    ]


def test_a_move_is_an_event_in_both_projects(app, team):
    side = add_project(app, "ada@example.com", "Side")
    add_member(app, side, "bob@example.com", Role.EDITOR)
    first = add_task(app, title="Travel", project_id=team)
    second = add_task(app, title="Budget", project_id=team)
    bob = signed_in(app, "bob@example.com")
    data = editor_data(app, first, project_id=str(side))
    assert post(bob, f"/tasks/{first}", data).status_code == 303
    bulk = {"ids": [second], "action": "move", "project": str(side)}
    assert post(bob, "/tasks/bulk", bulk).status_code == 303

    assert events(app, team) == [
        ("Bob", "moved_out", "Budget", ""),
        ("Bob", "moved_out", "Travel", ""),
    ]
    assert events(app, side) == [
        ("Bob", "moved_in", "Budget", ""),
        ("Bob", "moved_in", "Travel", ""),
    ]
    # The other end is named to those who are members there too, and to nobody else.
    assert "Bob moved out “Travel” (to Side)" in page_text(bob.get(activity_url(team)))
    assert "Bob moved in “Travel” (from Team)" in page_text(bob.get(activity_url(side)))
    dee = page_text(signed_in(app, "dee@example.com").get(activity_url(team)))
    assert "Bob moved out “Travel” (to another project)" in dee
    assert "Side" not in dee


def test_deleting_a_project_after_moving_its_tasks_records_them_in_the_other(app, team):
    side = add_project(app, "ada@example.com", "Side")
    add_task(app, title="Keep me", project_id=side)
    ada = signed_in(app, "ada@example.com")
    response = post_form(
        ada, f"/projects/{side}/delete", {"move_to": str(team)}, token_from="/projects"
    )
    assert response.status_code == 303
    assert events(app, team) == [("Ada", "moved_in", "Keep me", "")]
    page = page_text(ada.get(activity_url(team)))
    assert "Ada moved in “Keep me” (from another project)" in page  # Side is gone


BULK = [
    ("done", {}, "completed", ""),
    ("tag_add", {"tag": "new {n}"}, "tagged", "new 50"),  # a new tag each time
    ("priority", {"priority": "2"}, "edited", "priority Medium"),
    ("due", {"due_date": "2031-05-06"}, "edited", "due 2031-05-06"),
    ("delete", {}, "deleted", ""),
]


@pytest.mark.parametrize(("action", "extra", "recorded", "detail"), BULK)
def test_a_bulk_action_records_one_event_per_task_in_a_fixed_number_of_statements(
    app, team, action, extra, recorded, detail
):
    ids = [add_task(app, title=f"Task {i}", project_id=team) for i in range(55)]
    bob = signed_in(app, "bob@example.com")
    headers = {"X-CSRFToken": csrf_token(bob, "/tasks")}
    counts = []
    for selected in (ids[:5], ids[5:]):
        with count_queries(app) as statements:
            response = bob.post(
                "/tasks/bulk",
                data={"ids": selected, "action": action}
                | {key: value.format(n=len(selected)) for key, value in extra.items()},
                headers=headers,
            )
        assert response.status_code == 303
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    logged = events(app, team)
    assert len(logged) == len(ids)
    assert {title for _, _, title, _ in logged} == {f"Task {i}" for i in range(55)}
    assert ("Bob", recorded, "Task 54", detail) in logged


def test_membership_changes_are_events_of_the_project(app, team):
    ada = signed_in(app, "ada@example.com")
    members = f"/projects/{team}/members"
    bob, dee = user_id(app, "bob@example.com"), user_id(app, "dee@example.com")
    invite = {"email": "eve@example.com", "role": "2"}
    assert post_form(ada, f"/projects/{team}/invitations", invite, token_from=members).status_code
    with app.app_context():
        invitation = db.session.scalar(select(Invitation.id))
    eve = signed_in(app, "eve@example.com")
    post_form(eve, f"/invitations/{invitation}/accept", {}, token_from="/invitations")
    post_form(ada, f"/projects/{team}/members/{bob}/role", {"role": "3"}, token_from=members)
    post_form(ada, f"/projects/{team}/members/{dee}/remove", {}, token_from=members)
    post_form(eve, f"/projects/{team}/leave", {}, token_from=members)
    post_form(ada, f"/projects/{team}/transfer", {"new_owner": str(bob)}, token_from=members)

    assert events(app, team) == [
        ("Ada", "ownership", "", "to Bob"),
        ("Eve", "left", "", ""),
        ("Ada", "removed", "", "Dee"),
        ("Ada", "role_changed", "", "Bob: now Admin"),
        ("Eve", "joined", "", "as Editor"),
    ]


def test_the_inbox_records_too(app, team):
    """Every project records, the Inbox included (one code path; the Inbox's log is its
    owner's own history), and only its owner sees it."""
    ada = signed_in(app, "ada@example.com")
    assert post(ada, "/tasks", {"title": "Private thought"}).status_code == 303
    with app.app_context():
        _, inbox = inbox_of("ada@example.com")
    assert "Ada added “Private thought”" in page_text(ada.get(activity_url(inbox)))
    assert signed_in(app, "bob@example.com").get(activity_url(inbox)).status_code == 404


# ---- the page ----------------------------------------------------------------------------


def test_the_page_says_who_did_what_to_which_task_and_when(app, team):
    live = add_task(app, title="Still here", project_id=team)
    gone = add_task(app, title="Gone soon", project_id=team)
    bob = signed_in(app, "bob@example.com")
    post(bob, f"/tasks/{live}/toggle", {"done": "1"})
    post(bob, f"/tasks/{gone}/delete")

    dee = signed_in(app, "dee@example.com")  # a viewer
    response = dee.get(activity_url(team))
    assert response.status_code == 200
    words = page_text(response)
    assert words.index("Bob deleted “Gone soon”") < words.index("Bob completed “Still here”")
    assert "just now" in words
    body = response.get_data(as_text=True)
    assert f'href="/tasks/{live}"' in body  # a task that is still there links to it
    assert f'href="/tasks/{gone}"' not in body  # a deleted one does not
    assert re.search(r'<time [^>]*datetime="\d{4}-\d\d-\d\dT[^"]+" title="[^"]+UTC"', body)


def test_the_project_page_and_its_settings_link_to_the_log(app, team):
    url = activity_url(team)
    assert f'href="{url}"' in signed_in(app, "dee@example.com").get(f"/projects/{team}").text
    assert f'href="{url}"' in signed_in(app, "ada@example.com").get(f"{url[:-9]}/settings").text


def test_hostile_titles_and_names_are_shown_as_text(app, team):
    hostile = "<script>alert(1)</script>"
    create_user(app, email="mal@example.com", name="<b>Mal</b>")
    add_member(app, team, "mal@example.com", Role.EDITOR)
    mal = signed_in(app, "mal@example.com")
    assert post(mal, "/tasks", {"title": hostile, "project_id": team}).status_code == 303
    body = signed_in(app, "ada@example.com").get(activity_url(team)).text
    assert hostile not in body and "<b>Mal</b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "&lt;b&gt;Mal&lt;/b&gt;" in body


def _fill(app, project_id, n: int) -> None:
    """`n` events in the project, one second apart, the newest last, in one statement."""
    start = utcnow() - timedelta(seconds=n)
    with app.app_context():
        ada, _ = inbox_of("ada@example.com")
        rows = [
            {
                "project_id": project_id,
                "actor_id": ada,
                "actor_name": "Ada",
                "task_title": f"Event {i}",
                "action": "added",
                "detail": "",
                "created_at": start + timedelta(seconds=i),
            }
            for i in range(n)
        ]
        db.session.execute(insert(Activity), rows)
        db.session.commit()


def _titles(response) -> list[int]:
    return [int(n) for n in re.findall(r"“Event (\d+)”", response.get_data(as_text=True))]


def _next(response) -> str | None:
    found = re.search(r'href="(/projects/\d+/activity\?before=\d+)"', response.text)
    return found.group(1) if found else None


def test_load_more_pages_back_to_the_newest_shown_events_and_no_further(app, team):
    total = activity.SHOWN + activity.PAGE_SIZE // 2
    _fill(app, team, total)
    dee = signed_in(app, "dee@example.com")
    first = dee.get(activity_url(team))
    seen = _titles(first)
    assert seen == list(range(total - 1, total - 1 - activity.PAGE_SIZE, -1))
    url = _next(first)
    while url:  # htmx appends each page: just its rows and the next link
        more = dee.get(url, headers=HTMX)
        assert more.status_code == 200 and "<html" not in more.text
        assert 'id="activity-more"' in more.text and 'hx-swap-oob="true"' in more.text
        seen += _titles(more)
        url = _next(more)
    assert seen == list(range(total - 1, total - 1 - activity.SHOWN, -1))

    # Without JavaScript the link is a page of its own.
    plain = dee.get(_next(first))
    assert "<html" in plain.text
    assert _titles(plain)[0] == total - 1 - activity.PAGE_SIZE


@pytest.mark.parametrize("before", ["0", "-3", "abc", "", str(2**63), "٣", " 7 ", "1_0"])
def test_a_bad_cursor_is_refused_with_a_message(app, team, before):
    response = signed_in(app, "dee@example.com").get(activity_url(team, before=before))
    assert response.status_code == 400
    assert "Load more" in response.text


def test_one_projects_activity_never_shows_in_another(app, team):
    other = add_project(app, "eve@example.com", "Eve's own")
    add_task(app, "eve@example.com", title="Eve's secret", project_id=other)
    eve = signed_in(app, "eve@example.com")
    task = add_task(app, "eve@example.com", title="Eve's secret", project_id=other)
    post(eve, f"/tasks/{task}/toggle", {"done": "1"})
    bob = signed_in(app, "bob@example.com")
    post(bob, "/tasks", {"title": "Team work", "project_id": team})

    assert "Eve" not in page_text(bob.get(activity_url(team)))
    assert "Team work" not in page_text(eve.get(activity_url(other)))
    assert bob.get(activity_url(other)).status_code == 404


def test_a_removed_member_and_a_deleted_account_keep_their_names(app, team):
    task = add_task(app, title="Shared", project_id=team)
    bob = signed_in(app, "bob@example.com")
    post(bob, f"/tasks/{task}/toggle", {"done": "1"})
    ada = signed_in(app, "ada@example.com")
    members = f"/projects/{team}/members"
    bob_id = user_id(app, "bob@example.com")
    post_form(ada, f"{members}/{bob_id}/remove", {}, token_from=members)
    assert "Bob completed “Shared”" in page_text(ada.get(activity_url(team)))

    dee = signed_in(app, "dee@example.com")
    dee_task = add_task(app, title="Viewed", project_id=team)
    add_member(app, team, "bob@example.com", Role.EDITOR)  # back, then gone for good
    post(bob, f"/tasks/{dee_task}/toggle", {"done": "1"})
    deleted = account_post(
        bob, "/account/delete", {"confirm_email": "bob@example.com", "password": PASSWORD}
    )
    assert deleted.status_code in (302, 303)
    with app.app_context():
        assert (
            db.session.scalar(select(Activity.actor_id).where(Activity.actor_name == "Bob")) is None
        )
    assert "Bob completed “Viewed”" in page_text(dee.get(activity_url(team)))


def _page_statement(app, client, url: str):
    """The SQL and parameters of the events query a real request for `url` sends."""
    with app.app_context():
        engine = db.engine
    seen = []

    def capture(_conn, _cursor, statement, parameters, *_):
        if re.search(r"FROM activity\b", statement) and "LIMIT" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) == 1, seen
    return seen[0]


def test_the_page_reads_the_projects_newest_events_from_its_index(app, team):
    """Other projects' events between this one's, statistics fresh: a page (the first and a
    deep one) is read from (project_id, id) backwards, never by scanning the table or the
    whole id range (which a project with few events among many would make slow)."""
    others = [add_project(app, "ada@example.com", f"P{i}") for i in range(40)]
    for _ in range(10):  # interleaved, as many projects' events are: this one's are 1%
        _fill(app, team, 30)
        for project in others:
            _fill(app, project, 75)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        deep = db.session.scalar(
            select(Activity.id)
            .where(Activity.project_id == team)
            .order_by(Activity.id.desc())
            .offset(100)
            .limit(1)
        )
    dee = signed_in(app, "dee@example.com")
    for url in (activity_url(team), activity_url(team, before=deep)):
        statement, parameters = _page_statement(app, dee, url)
        with app.app_context(), db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = "\n".join(row[-1] for row in rows)
                assert "activity USING COVERING INDEX ix_activity_project" in plan or (
                    "activity USING INDEX ix_activity_project" in plan
                ), plan
            else:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters)
                plan = "\n".join(row[0] for row in rows)
                assert "using ix_activity_project on activity" in plan, plan
            assert not re.search(r"SCAN activity\b|Seq Scan on activity|pk_activity", plan), plan


def test_a_deleted_owners_hand_over_is_an_event(app, team):
    root = admin_client(app)
    ada = user_id(app, "ada@example.com")
    response = admin_post(root, f"/admin/users/{ada}/delete", {"confirm_email": "ada@example.com"})
    assert response.status_code in (302, 303)
    assert events(app, team) == [("Root", "ownership", "", "to Bob: Ada's account was deleted")]
