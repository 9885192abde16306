"""The views across projects (Today, Upcoming, Assigned to me, All): which tasks each lists,
in which order, page by page, and what a user can do from them.

Ada is in four projects beside her Inbox: Shared (editor), Watched (viewer), Old (archived)
and Left (she was removed; her assignments there stay behind). Every view's pages, for every
sort and status, concatenate to the naive answer: one ORDER BY over the tasks she may see.
"""

from __future__ import annotations

import functools
import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import Membership, Project, Role, Task, utcnow
from app.tasks import views
from app.tasks.listing import SORTS, STATUSES, ListQuery, _sort_keys
from app.tasks.views import VIEWS, fetch_view, view_statement
from tests.helpers import (
    HTMX,
    add_member,
    add_project,
    add_task,
    app_today,
    create_user,
    csrf_token,
    inbox_of,
    login,
    post,
    user_id,
)

BEA = "bea@example.com"


def _world(app, per_project: int = 12, seed: int = 5):
    """Ada's projects as the module docstring says, with `per_project` tasks in each (dates
    around today, some undated, some done, some deleted, some assigned to Ada)."""
    create_user(app, BEA, name="Bea")
    shared = add_project(app, BEA, "Shared", colour="#aa0000")
    watched = add_project(app, BEA, "Watched", colour="#00aa00")
    old = add_project(app, BEA, "Old", archived_at=utcnow())
    left = add_project(app, BEA, "Left")
    for project, role in ((shared, Role.EDITOR), (watched, Role.VIEWER), (old, Role.EDITOR)):
        add_member(app, project, "ada@example.com", role)
    ada = user_id(app)
    with app.app_context():
        _, inbox = inbox_of()
    rnd = random.Random(seed)
    today = app_today(app)
    ids = {"inbox": inbox, "shared": shared, "watched": watched, "old": old, "left": left}
    for name, project in ids.items():
        for i in range(per_project):
            add_task(
                app,
                BEA if project != inbox else "ada@example.com",
                project_id=project,
                title=rnd.choice(["alpha", "Beta", "gamma", "Delta"]) + f" {name} {i}",
                done=rnd.random() < 0.3,
                priority=rnd.randint(0, 3),
                due_date=None if rnd.random() < 0.25 else today + timedelta(rnd.randint(-9, 12)),
                deleted_at=utcnow() if rnd.random() < 0.1 else None,
                assignee_id=ada if project != inbox and rnd.random() < 0.5 else None,
            )
    return ids


def _naive(app, view, sort, status, projects) -> list[int]:
    """The view's tasks in the sort's order, by one plain ORDER BY over the live projects."""
    today = app_today(app)
    ada = user_id(app)
    live = [projects[k] for k in ("inbox", "shared", "watched")]
    stmt = select(Task.id).where(Task.project_id.in_(live), Task.deleted_at.is_(None))
    if status != "all":
        stmt = stmt.where(Task.done.is_(status == "done"))
    if view == "today":
        stmt = stmt.where(Task.due_date <= today)
    elif view == "upcoming":
        stmt = stmt.where(Task.due_date > today, Task.due_date <= today + timedelta(7))
    elif view == "assigned":
        stmt = stmt.where(Task.assignee_id == ada)
    order = [e.desc() if d else e.asc() for e, d in _sort_keys(sort)]
    with app.app_context():
        return list(db.session.scalars(stmt.order_by(*order)))


def _paged(app, view, sort, status, limit) -> list[int]:
    ada = user_id(app)
    today = app_today(app)
    ids, after = [], None
    with app.test_request_context():
        while True:
            query = ListQuery(sort=sort, status=status, limit=limit, after=after)
            page = fetch_view(view, ada, query, today)
            ids += [t.id for t in page.tasks]
            if page.next_cursor is None:
                return ids
            from app.tasks.listing import decode_cursor

            after = decode_cursor(page.next_cursor, sort)


@pytest.mark.parametrize("arms", ["per project", "correlated"])
@pytest.mark.parametrize("view", VIEWS)
def test_each_view_pages_through_exactly_its_tasks_in_every_order(
    app, user, view, arms, monkeypatch
):
    if arms == "correlated":
        # SQLite's form for a user in more projects than its compound statement can hold
        # (views._per_project gives way past MAX_SQLITE_ARMS): forced here with a limit of 0.
        with app.app_context():
            if db.engine.dialect.name != "sqlite":
                pytest.skip("SQLite's statement for many projects")
        monkeypatch.setattr(views, "MAX_SQLITE_ARMS", 0)
        for name in ("_first_page", "_page_after"):  # statements built with the usual limit
            cached = getattr(views, name)
            monkeypatch.setattr(views, name, functools.lru_cache(cached.__wrapped__))
    projects = _world(app)
    for sort in SORTS:
        for status in STATUSES:
            expected = _naive(app, view, sort, status, projects)
            assert _paged(app, view, sort, status, limit=3) == expected, (sort, status)
    assert _naive(app, view, "due", "all", projects), "the data gives the view some tasks"


@pytest.mark.parametrize("view", ["project", "assigned", "all"])
def test_a_page_after_a_cursor_is_built_once_for_every_cursor_of_its_form(app, view):
    """The cursor's values are bound: two cursors with the same flags and NULLs share one
    statement (the pages they read are test_each_view_pages_through_exactly_its_tasks..'s),
    an undated cursor has pieces of its own."""
    today = app_today(app)
    with app.app_context():
        dialect = db.engine.dialect.name

        def statement(after):
            return view_statement(dialect, view, ListQuery(after=after), today, projects=3)

        dated, values = statement((False, today, 10))
        later, later_values = statement((False, today + timedelta(days=3), 99))
        undated, undated_values = statement((True, None, 10))
    assert dated is later and undated is not dated
    assert values["after1"] == today and values["after2"] == 10
    assert later_values["after1"] == today + timedelta(days=3) and later_values["after2"] == 99
    assert "after1" not in undated_values and undated_values["after2"] == 10


def test_views_leave_out_archived_left_and_deleted_projects_tasks(app, auth_client):
    projects = _world(app)
    with app.app_context():
        hidden = set(
            db.session.scalars(
                select(Task.title).where(
                    Task.project_id.in_([projects["old"], projects["left"]])
                    | Task.deleted_at.is_not(None)
                )
            )
        )
        shown = set(
            db.session.scalars(
                select(Task.title).where(
                    Task.project_id.in_([projects["shared"], projects["watched"]]),
                    Task.deleted_at.is_(None),
                    Task.done.is_(False),
                )
            )
        )
    page = auth_client.get("/tasks/all?limit=200").get_data(as_text=True)
    titles = set(re.findall(r'class="task-title"[^>]*>([^<]+)<', page))
    assert shown <= titles
    assert not (hidden - shown) & titles
    assert "Watched" in page and "Shared" in page  # each row names its project


def test_assigned_view_drops_a_project_the_user_is_removed_from(app, auth_client):
    projects = _world(app)
    title = "Assigned, then removed"
    add_task(app, BEA, project_id=projects["shared"], title=title, assignee_id=user_id(app))
    assert title in auth_client.get("/tasks/assigned").get_data(as_text=True)
    with app.app_context():
        db.session.execute(
            delete(Membership).where(
                Membership.project_id == projects["shared"], Membership.user_id == user_id(app)
            )
        )
        db.session.commit()
    assert title not in auth_client.get("/tasks/assigned").get_data(as_text=True)


def test_viewer_rows_show_no_controls_and_editor_rows_do(app, auth_client):
    projects = _world(app, per_project=0)
    watched = add_task(app, BEA, project_id=projects["watched"], title="Look only")
    shared = add_task(app, BEA, project_id=projects["shared"], title="Change me")
    page = auth_client.get("/tasks/all").get_data(as_text=True)
    assert f'name="ids" value="{shared}"' in page and f"/tasks/{shared}/toggle" in page
    assert f"/tasks/{shared}/edit" in page
    assert f'name="ids" value="{watched}"' not in page and f"/tasks/{watched}/toggle" not in page
    assert f"/tasks/{watched}/edit" not in page
    assert "Look only" in page


def test_bulk_on_a_view_acts_across_projects_and_refuses_view_only_tasks(app, auth_client):
    projects = _world(app, per_project=0)
    inbox = add_task(app, project_id=projects["inbox"], title="Mine")
    shared = add_task(app, BEA, project_id=projects["shared"], title="Ours")
    watched = add_task(app, BEA, project_id=projects["watched"], title="Theirs")
    answer = post(
        auth_client,
        "/tasks/bulk",
        {"ids": [inbox, shared], "action": "done"},
        htmx=True,
    )
    assert answer.status_code == 200
    with app.app_context():
        assert all(db.session.get(Task, i).done for i in (inbox, shared))
    refused = post(auth_client, "/tasks/bulk", {"ids": [shared, watched], "action": "open"})
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(Task, shared).done


@pytest.mark.parametrize("view", VIEWS)
def test_view_pages_keep_filters_and_load_more(app, auth_client, view):
    projects = _world(app, per_project=0)
    today = app_today(app)
    ada = user_id(app)
    for i in range(4):
        add_task(
            app,
            BEA,
            project_id=projects["shared"],
            title=f"needle {i}",
            priority=3,
            due_date=today + timedelta(days=1 if view == "upcoming" else 0),
            assignee_id=ada,
            tags=["work"],
        )
    add_task(app, BEA, project_id=projects["shared"], title="needle low", priority=0)
    url = f"/tasks/{view}?q=needle&priority=high&tag=work&limit=2"
    first = auth_client.get(url).get_data(as_text=True)
    assert "needle 0" in first and "needle 1" in first and "needle low" not in first
    more = re.search(r'hx-get="([^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
    assert more.startswith(f"/tasks/{view}?")
    second = auth_client.get(more, headers=HTMX).get_data(as_text=True)
    assert "needle 2" in second and "needle 3" in second and "<html" not in second


def test_quick_add_on_a_view_page_goes_to_the_inbox(app, auth_client):
    auth_client.get("/tasks/today")
    answer = post(auth_client, "/tasks", {"title": "Typed on a view"}, htmx=True)
    assert answer.status_code == 200
    with app.app_context():
        task = db.session.scalar(select(Task).where(Task.title == "Typed on a view"))
        _, inbox = inbox_of()
        assert task.project_id == inbox


def test_views_are_in_the_sidebar_and_login_is_required(app, client):
    create_user(app)
    assert client.get("/tasks/today").status_code in (302, 303)
    login(client)
    page = client.get("/tasks/today").get_data(as_text=True)
    for view in VIEWS:
        assert f'href="/tasks/{view}"' in page
    assert 'href="/tasks/today" aria-current="page"' in page
    with app.app_context():
        assert db.session.scalar(select(Project.name).where(Project.inbox_of_id.is_not(None)))


def test_without_javascript_a_bulk_action_on_a_view_comes_back_to_the_view(app, auth_client):
    projects = _world(app, per_project=0)
    shared = add_task(app, BEA, project_id=projects["shared"], title="Ours")
    page = auth_client.get("/tasks/all?sort=title").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    answer = auth_client.post(
        "/tasks/bulk",
        data={"ids": [shared], "action": "done", "csrf_token": token.group(1)},
        headers={"Referer": "http://localhost/tasks/all?sort=title"},
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/tasks/all?sort=title")
    with app.app_context():
        assert db.session.get(Task, shared).done


def test_a_rows_project_chip_draws_a_palette_colour_by_class_and_another_by_svg(app, auth_client):
    """A view across projects names each row's project with its colour's dot: a palette
    colour is the stylesheet's class (no SVG a row), and so is a new project's grey; a colour
    picked by hand is an SVG dot."""
    from app.palette import PALETTE, PALETTE_CLASS

    palette = add_project(app, name="Palette", colour=PALETTE[2])
    own = add_project(app, name="Own", colour="#123456")
    token = csrf_token(auth_client, "/projects")
    assert (
        auth_client.post("/projects", data={"name": "Plain", "csrf_token": token}).status_code < 400
    )
    with app.app_context():
        plain = db.session.scalar(select(Project.id).where(Project.name == "Plain"))
    add_task(app, project_id=plain, title="In plain", due_date=app_today(app))
    add_task(app, project_id=palette, title="In palette", due_date=app_today(app))
    add_task(app, project_id=own, title="In own", due_date=app_today(app))
    page = auth_client.get("/tasks/all").get_data(as_text=True)
    chip = re.compile(r'(<a class="task-project[^"]*"[^>]*>.*?([A-Za-z]+)</a>)')
    chips = {name: html for html, name in chip.findall(page)}
    assert f'class="task-project {PALETTE_CLASS[PALETTE[2]]}"' in chips["Palette"]
    assert "<svg" not in chips["Palette"]
    assert 'class="task-project"' in chips["Own"] and 'fill="#123456"' in chips["Own"]
    assert 'class="task-project tag-c8"' in chips["Plain"] and "<svg" not in chips["Plain"]


def test_a_tag_a_rows_project_and_the_navigation_draw_a_colour_the_same_way(app, auth_client):
    """One rule for every dot (app/palette.dot): a palette colour is its class on the link
    and no SVG; a colour picked by hand is an SVG dot of that colour (tags 8 px, projects 10)
    and no palette class, in a tag chip, a row's project chip and the project list alike."""
    from app.models import Tag
    from app.palette import PALETTE, PALETTE_CLASS

    palette = add_project(app, name="Palette", colour=PALETTE[3])
    own = add_project(app, name="Own", colour="#123456")
    task = add_task(app, project_id=own, title="Dotted", due_date=app_today(app), tags=["a", "b"])
    with app.app_context():
        tags = {tag.name: tag for tag in db.session.scalars(select(Tag))}
        tags["a"].colour, tags["b"].colour = PALETTE[3], "#123456"
        db.session.commit()
    add_task(app, project_id=palette, title="Plain", due_date=app_today(app))
    page = auth_client.get("/tasks/today").get_data(as_text=True)
    row = page.split(f'id="task-{task}"', 1)[1].split('role="row"', 1)[0]
    nav = page.split('aria-label="Projects"', 1)[1].split("</nav>", 1)[0]
    css = PALETTE_CLASS[PALETTE[3]]
    svg = '<svg class="chip-dot" aria-hidden="true" width="{0}" height="{0}"'
    drawn = {
        "tag, palette": (
            re.search(r'<a class="chip[^"]*" href="[^"]*">(?:<svg.*?</svg>)?a</a>', row),
            8,
        ),
        "tag, own": (
            re.search(r'<a class="chip[^"]*" href="[^"]*">(?:<svg.*?</svg>)?b</a>', row),
            8,
        ),
        "project, own": (re.search(r'<a class="task-project[^"]*"[^>]*>.*?Own</a>', row), 10),
        "project, palette": (
            re.search(r'<a class="task-project[^"]*"[^>]*>(?:<svg.*?</svg>)?Palette</a>', page),
            10,
        ),
        "navigation, own": (re.search(rf'<a[^>]*href="/projects/{own}".*?</a>', nav, re.S), 10),
        "navigation, palette": (
            re.search(rf'<a[^>]*href="/projects/{palette}".*?</a>', nav, re.S),
            10,
        ),
    }
    for name, (found, size) in drawn.items():
        assert found, name
        html = found.group(0)
        if "palette" in name:
            assert css in html.split(">", 1)[0] and "<svg" not in html, (name, html)
        else:
            assert svg.format(size) in html and 'fill="#123456"' in html, (name, html)
            assert "tag-c" not in html, (name, html)


def test_the_navigation_draws_a_palette_colour_by_class_and_a_renamed_chip_follows(
    app, auth_client
):
    """The project list beside the tasks: a palette colour is a class on the link, a colour
    picked by hand an SVG dot. A row's chip is made once per (link, name, colour): a renamed
    or recoloured project shows its new name and colour at once, escaped."""
    from app.palette import PALETTE, PALETTE_CLASS

    palette = add_project(app, name="Palette", colour=PALETTE[4])
    own = add_project(app, name="Own", colour="#123456")
    add_task(app, project_id=palette, title="Chipped", due_date=app_today(app))
    page = auth_client.get("/tasks/today").get_data(as_text=True)
    nav = page.split('aria-label="Projects"', 1)[1].split("</nav>", 1)[0]
    link = re.compile(r'(<a[^>]*href="/projects/(\d+)"[^>]*>.*?</a>)', re.S)
    links = {int(pid): html for html, pid in link.findall(nav)}
    assert f'class="{PALETTE_CLASS[PALETTE[4]]}"' in links[palette]
    assert "<svg" not in links[palette]
    assert "<svg" in links[own] and 'fill="#123456"' in links[own]
    assert f'class="task-project tag-c4" href="/projects/{palette}">Palette</a>' in page
    with app.app_context():
        project = db.session.get(Project, palette)
        project.name, project.colour = "<b>Renamed</b>", "#abcdef"
        db.session.commit()
    page = auth_client.get("/tasks/today").get_data(as_text=True)
    assert ">Palette</a>" not in page and "<b>Renamed</b>" not in page
    assert 'fill="#abcdef"/></svg>&lt;b&gt;Renamed&lt;/b&gt;</a>' in page
