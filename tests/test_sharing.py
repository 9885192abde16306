"""Sharing a project: the members page, roles, removing and leaving, handing over, and
invitations, as each member (and an outsider) sees them, with the rows they leave behind."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Invitation, Membership, Role, Task
from tests.helpers import (
    add_member,
    add_project,
    add_task,
    add_users,
    count,
    count_queries,
    create_user,
    inbox_of,
    login,
    post_form,
    user_id,
)
from tests.mailbox import read_eml, token_link

PEOPLE = {
    "ada@example.com": ("Ada", Role.OWNER),
    "bob@example.com": ("Bob", Role.ADMIN),
    "cy@example.com": ("Cy", Role.EDITOR),
    "dee@example.com": ("Dee", Role.VIEWER),
    "eve@example.com": ("Eve", None),  # not a member
}


@pytest.fixture
def team(app):
    """Ada's project "Team" with Bob (admin), Cy (editor) and Dee (viewer); Eve is outside."""
    for email, (name, _) in PEOPLE.items():
        create_user(app, email=email, name=name)
    project_id = add_project(app, "ada@example.com", "Team")
    for email, (_, role) in PEOPLE.items():
        if role is not None and role != Role.OWNER:
            add_member(app, project_id, email, role)
    return project_id


def signed_in(app, email):
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    return client


def members_url(project_id):
    return f"/projects/{project_id}/members"


def send(client, project_id, path, data=None):
    """A form posted from the members page (the token from that page, or the task list)."""
    page = members_url(project_id) if project_id else "/tasks"
    return post_form(client, path, data or {}, token_from=page)


def role_of(app, project_id, email):
    with app.app_context():
        return db.session.scalar(
            select(Membership.role).where(
                Membership.project_id == project_id,
                Membership.user_id == user_id(app, email),
            )
        )


def text(response) -> str:
    return response.get_data(as_text=True)


def flashes(client) -> list[str]:
    """The flash messages the next page shows."""
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# ---- the members page --------------------------------------------------------------------


def test_every_member_sees_who_is_in_the_project_with_roles(app, team):
    body = text(signed_in(app, "dee@example.com").get(members_url(team)))
    for email, (name, role) in PEOPLE.items():
        if role is None:
            assert email not in body
        else:
            assert name in body and email in body
            assert re.search(rf"{email}</td>\s*<td data-label=\"Role\">{role.label}</td>", body), (
                email
            )


def test_a_viewer_and_an_editor_see_no_controls_they_cannot_use(app, team):
    for email in ("dee@example.com", "cy@example.com"):
        body = text(signed_in(app, email).get(members_url(team)))
        assert "Change role" not in body and "Remove" not in body
        assert "Invite someone" not in body and "Hand the project over" not in body
        assert "Leave “Team”" in body


def test_an_admin_sees_member_controls_but_not_the_hand_over(app, team):
    body = text(signed_in(app, "bob@example.com").get(members_url(team)))
    assert "Change role" in body and "Invite someone" in body
    assert "Hand the project over" not in body
    # No controls on the owner's row.
    owner_row = re.search(r'<tr id="member-\d+">\s*<td>Ada.*?</tr>', body, re.S).group(0)
    assert "Change role" not in owner_row and "Remove" not in owner_row


def test_the_owner_sees_the_hand_over_and_cannot_leave(app, team):
    body = text(signed_in(app, "ada@example.com").get(members_url(team)))
    assert "Hand the project over" in body and "Bob (bob@example.com)" in body
    assert "Leave “Team”" not in body


def test_someone_outside_the_project_gets_404_for_every_sharing_route(app, team):
    eve = signed_in(app, "eve@example.com")
    assert eve.get(members_url(team)).status_code == 404
    bob = user_id(app, "bob@example.com")
    for path in (
        f"/projects/{team}/members/{bob}/role",
        f"/projects/{team}/members/{bob}/remove",
        f"/projects/{team}/leave",
        f"/projects/{team}/transfer",
        f"/projects/{team}/invitations",
        f"/projects/{team}/invitations/1/cancel",
    ):
        response = post_form(
            eve, path, {"role": "1", "email": "x@example.com"}, token_from="/tasks"
        )
        assert response.status_code == 404, path
    assert role_of(app, team, "bob@example.com") == Role.ADMIN


def test_a_role_too_low_gets_403_with_a_message_and_changes_nothing(app, team):
    cy = signed_in(app, "cy@example.com")
    dee = user_id(app, "dee@example.com")
    refused = send(cy, team, f"/projects/{team}/members/{dee}/role", {"role": "3"})
    assert refused.status_code == 403
    assert "Only the project&#39;s admins can do that." in text(refused)
    bob = signed_in(app, "bob@example.com")
    refused = send(bob, team, f"/projects/{team}/transfer", {"new_owner": str(dee)})
    assert refused.status_code == 403
    assert "Only the project&#39;s owner can do that." in text(refused)
    assert role_of(app, team, "dee@example.com") == Role.VIEWER


# ---- roles and removal -------------------------------------------------------------------


def test_an_admin_changes_a_members_role(app, team):
    bob = signed_in(app, "bob@example.com")
    dee = user_id(app, "dee@example.com")
    response = send(bob, team, f"/projects/{team}/members/{dee}/role", {"role": "2"})
    assert response.status_code == 303
    assert response.headers["Location"] == members_url(team)
    assert flashes(bob) == ["Dee is now editor."]
    assert role_of(app, team, "dee@example.com") == Role.EDITOR
    assert "member_role_changed" in audit_actions(app)


def test_admins_manage_other_admins(app, team):
    add_member(app, team, "eve@example.com", Role.ADMIN)
    bob = signed_in(app, "bob@example.com")
    eve = user_id(app, "eve@example.com")
    assert send(bob, team, f"/projects/{team}/members/{eve}/role", {"role": "1"}).status_code == 303
    assert role_of(app, team, "eve@example.com") == Role.VIEWER


@pytest.mark.parametrize("role", ["4", "0", "9", "x", ""])
def test_a_role_outside_viewer_to_admin_is_refused(app, team, role):
    bob = signed_in(app, "bob@example.com")
    dee = user_id(app, "dee@example.com")
    response = send(bob, team, f"/projects/{team}/members/{dee}/role", {"role": role})
    assert response.status_code == 422
    assert role_of(app, team, "dee@example.com") == Role.VIEWER


def test_nobody_changes_or_removes_the_owner_here(app, team):
    ada = user_id(app, "ada@example.com")
    for email in ("bob@example.com", "ada@example.com"):
        client = signed_in(app, email)
        changed = send(client, team, f"/projects/{team}/members/{ada}/role", {"role": "3"})
        assert changed.status_code == 409
        assert "the owner hands the project over to an admin" in text(changed)
        removed = send(client, team, f"/projects/{team}/members/{ada}/remove")
        assert removed.status_code == 409
    assert role_of(app, team, "ada@example.com") == Role.OWNER


def test_changing_someone_who_is_not_a_member_is_404(app, team):
    bob = signed_in(app, "bob@example.com")
    eve = user_id(app, "eve@example.com")
    assert send(bob, team, f"/projects/{team}/members/{eve}/role", {"role": "2"}).status_code == 404
    assert send(bob, team, f"/projects/{team}/members/{eve}/remove").status_code == 404


def test_removing_a_member_unassigns_their_tasks_in_that_project_only(app, team):
    cy = user_id(app, "cy@example.com")
    here = add_task(app, "ada@example.com", project_id=team, title="Here", assignee_id=cy)
    other = add_project(app, "ada@example.com", "Other")
    add_member(app, other, "cy@example.com", Role.EDITOR)
    elsewhere = add_task(app, "ada@example.com", project_id=other, title="There", assignee_id=cy)
    theirs = add_task(app, "cy@example.com", project_id=team, title="Added by Cy")
    bob = signed_in(app, "bob@example.com")
    response = send(bob, team, f"/projects/{team}/members/{cy}/remove")
    assert response.status_code == 303
    assert flashes(bob) == ["Cy is no longer a member of “Team”."]
    assert role_of(app, team, "cy@example.com") is None
    with app.app_context():
        assert db.session.get(Task, here).assignee_id is None
        assert db.session.get(Task, elsewhere).assignee_id == cy
        assert db.session.get(Task, theirs).created_by_id == cy  # what they added stays
    assert signed_in(app, "cy@example.com").get(members_url(team)).status_code == 404
    assert "member_removed" in audit_actions(app)


def test_a_member_leaves_and_their_assignments_clear(app, team):
    dee = user_id(app, "dee@example.com")
    task = add_task(app, "ada@example.com", project_id=team, assignee_id=dee)
    client = signed_in(app, "dee@example.com")
    response = send(client, team, f"/projects/{team}/leave")
    assert response.status_code == 303 and response.headers["Location"] == "/tasks"
    assert flashes(client) == ["You left “Team”."]
    assert role_of(app, team, "dee@example.com") is None
    with app.app_context():
        assert db.session.get(Task, task).assignee_id is None
    assert client.get(members_url(team)).status_code == 404
    assert "member_left" in audit_actions(app)


def test_the_owner_cannot_leave_without_handing_over(app, team):
    response = send(signed_in(app, "ada@example.com"), team, f"/projects/{team}/leave")
    assert response.status_code == 409
    assert "hand it over to an admin member before you leave" in text(response)
    assert role_of(app, team, "ada@example.com") == Role.OWNER
    # Said on the members page, where the hand-over form is, not on a bare error page.
    assert "Members of “Team”" in text(response) and "Hand over" in text(response)
    assert "Conflict" not in text(response)


# ---- handing over ------------------------------------------------------------------------


def test_the_owner_hands_the_project_to_an_admin_and_stays_an_admin(app, team):
    ada = signed_in(app, "ada@example.com")
    bob = user_id(app, "bob@example.com")
    response = send(ada, team, f"/projects/{team}/transfer", {"new_owner": str(bob)})
    assert response.status_code == 303
    assert flashes(ada) == ["Bob owns “Team” now; you are an admin."]
    assert role_of(app, team, "bob@example.com") == Role.OWNER
    assert role_of(app, team, "ada@example.com") == Role.ADMIN
    assert count(app, Membership, Membership.project_id == team, Membership.role == 4) == 1
    # Ada may leave now; a second hand-over from her is refused.
    again = send(ada, team, f"/projects/{team}/transfer", {"new_owner": str(bob)})
    assert again.status_code == 403
    assert send(ada, team, f"/projects/{team}/leave").status_code == 303
    assert "ownership_transferred" in audit_actions(app)


@pytest.mark.parametrize("who", ["cy@example.com", "eve@example.com", "ada@example.com"])
def test_the_project_passes_only_to_an_admin_member(app, team, who):
    ada = signed_in(app, "ada@example.com")
    target = user_id(app, who)
    response = send(ada, team, f"/projects/{team}/transfer", {"new_owner": str(target)})
    assert response.status_code == 409
    assert role_of(app, team, "ada@example.com") == Role.OWNER
    assert count(app, Membership, Membership.project_id == team, Membership.role == 4) == 1


def test_an_inbox_cannot_be_shared_handed_over_or_left(app, team):
    ada = signed_in(app, "ada@example.com")
    with app.app_context():
        _, inbox = inbox_of("ada@example.com")
    invited = send(ada, inbox, f"/projects/{inbox}/invitations", {"email": "x@example.com"})
    assert invited.status_code == 409
    assert "Your Inbox is yours alone" in text(invited)
    bob = str(user_id(app, "bob@example.com"))
    assert send(ada, inbox, f"/projects/{inbox}/transfer", {"new_owner": bob}).status_code == 409
    assert send(ada, inbox, f"/projects/{inbox}/leave").status_code == 409
    assert count(app, Invitation) == 0
    assert "Invite someone" not in text(ada.get(members_url(inbox)))


# ---- invitations -------------------------------------------------------------------------


def invite(client, project_id, email, role="2"):
    return send(
        client, project_id, f"/projects/{project_id}/invitations", {"email": email, "role": role}
    )


def test_an_invitation_answers_the_same_whether_or_not_the_address_has_an_account(app, team):
    """Byte for byte, once the address itself is set aside: the status, where it leads, the
    flash, and the row the inviter's page shows."""
    other = add_project(app, "ada@example.com", "Other")
    ada = signed_in(app, "ada@example.com")
    answers = []
    for project_id, email in ((team, "eve@example.com"), (other, "nobody@example.com")):
        response = invite(ada, project_id, email)
        message = flashes(ada)
        page = text(ada.get(members_url(project_id)))
        row = re.search(r'<table class="table" id="invitations">.*?</table>', page, re.S).group(0)
        answers.append(
            (
                response.status_code,
                response.headers["Location"].replace(str(project_id), "ID"),
                text(response).replace(str(project_id), "ID"),
                [m.replace(email, "EMAIL") for m in message],
                re.sub(r"\d+", "N", _without_tokens(row).replace(email, "EMAIL")),
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == 303
    assert answers[0][3] == [
        "EMAIL is invited as editor. We sent them an email; whoever signs in with that address"
        " will see the invitation."
    ]
    with app.app_context():
        assert set(db.session.scalars(select(Invitation.email))) == {
            "eve@example.com",
            "nobody@example.com",
        }


def _without_tokens(html: str) -> str:
    """CSRF tokens are signed with the time: the same session's differ from page to page."""
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="T"', html)


def test_inviting_again_updates_the_role_with_the_same_answer(app, team):
    bob = signed_in(app, "bob@example.com")
    invite(bob, team, "Eve@Example.com ", "1")
    first = flashes(bob)
    invite(bob, team, "eve@example.com", "1")
    assert flashes(bob) == first
    invite(bob, team, "EVE@example.com", "3")
    with app.app_context():
        [(email, role)] = db.session.execute(select(Invitation.email, Invitation.role)).all()
    assert (email, role) == ("eve@example.com", Role.ADMIN)


def test_inviting_a_member_says_so_and_invites_nobody(app, team):
    bob = signed_in(app, "bob@example.com")
    response = invite(bob, team, "CY@example.com")
    assert response.status_code == 303
    assert flashes(bob) == ["cy@example.com is a member of this project already."]
    assert count(app, Invitation) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email", "role": "2"}, "An email address must have an @-sign."),
        ({"email": "", "role": "2"}, "This field is required."),
        ({"email": "x@example.com", "role": "4"}, "Choose viewer, editor or admin."),
        ({"email": "x@example.com", "role": "2" * 30}, "Choose viewer, editor or admin."),
    ],
)
def test_a_bad_invitation_is_shown_back_with_its_problem(app, team, data, message):
    bob = signed_in(app, "bob@example.com")
    response = send(bob, team, f"/projects/{team}/invitations", data)
    assert response.status_code == 422
    assert message in text(response)
    assert count(app, Invitation) == 0


def test_only_admins_invite(app, team):
    cy = signed_in(app, "cy@example.com")
    response = invite(cy, team, "x@example.com")
    assert response.status_code == 403
    assert count(app, Invitation) == 0


def test_invitations_are_rate_limited_per_inviter(make_app, database_url):
    app = make_app(INVITE_RATE_LIMIT="2/minute")
    create_user(app, email="ada@example.com", name="Ada")
    project_id = add_project(app, "ada@example.com", "Team")
    ada = signed_in(app, "ada@example.com")
    assert invite(ada, project_id, "one@example.com").status_code == 303
    assert invite(ada, project_id, "two@example.com").status_code == 303
    refused = invite(ada, project_id, "three@example.com")
    assert refused.status_code == 429
    assert count(app, Invitation) == 2


def test_an_admin_cancels_a_pending_invitation(app, team):
    ada = signed_in(app, "ada@example.com")
    invite(ada, team, "eve@example.com")
    with app.app_context():
        invitation = db.session.scalar(select(Invitation.id))
    other = add_project(app, "ada@example.com", "Other")
    # Through another project of hers: not this project's invitation.
    wrong = send(ada, other, f"/projects/{other}/invitations/{invitation}/cancel")
    assert wrong.status_code == 404
    cy = signed_in(app, "cy@example.com")
    assert send(cy, team, f"/projects/{team}/invitations/{invitation}/cancel").status_code == 403
    bob = signed_in(app, "bob@example.com")
    response = send(bob, team, f"/projects/{team}/invitations/{invitation}/cancel")
    assert response.status_code == 303
    assert flashes(bob) == ["The invitation for eve@example.com is cancelled."]
    assert count(app, Invitation) == 0
    assert "invitation_cancelled" in audit_actions(app)


def test_the_invitee_sees_the_invitation_at_sign_in_and_accepts_it(app, team):
    invite(signed_in(app, "ada@example.com"), team, "eve@example.com", "2")
    eve = signed_in(app, "eve@example.com")
    notice = text(eve.get("/tasks"))
    assert "1 invitation to a shared project is waiting for you" in notice
    assert 'href="/invitations"' in notice
    page = text(eve.get("/invitations"))
    assert "Team" in page and "Editor" in page and "Ada" in page
    with app.app_context():
        invitation = db.session.scalar(select(Invitation.id))
    response = post_form(eve, f"/invitations/{invitation}/accept", {}, token_from="/invitations")
    assert response.status_code == 303
    assert response.headers["Location"] == members_url(team)
    assert flashes(eve) == ["You joined “Team”."]
    assert role_of(app, team, "eve@example.com") == Role.EDITOR
    assert count(app, Invitation) == 0
    # Answered: the task list's notice is gone at once (not only after /invitations).
    assert "waiting for you" not in text(eve.get("/tasks"))
    # A second tab accepting the same invitation: told it is gone, nothing breaks.
    again = post_form(eve, f"/invitations/{invitation}/accept", {}, token_from="/invitations")
    assert again.status_code == 404
    assert "answered or cancelled already" in text(again)
    assert role_of(app, team, "eve@example.com") == Role.EDITOR
    # The notice went once nothing was left to answer.
    assert "invitation" not in text(eve.get("/tasks")).split("<main")[1].split("</form>")[0]
    assert "invitation_accepted" in audit_actions(app)


def test_the_invitee_declines(app, team):
    invite(signed_in(app, "ada@example.com"), team, "eve@example.com")
    eve = signed_in(app, "eve@example.com")
    with app.app_context():
        invitation = db.session.scalar(select(Invitation.id))
    response = post_form(eve, f"/invitations/{invitation}/decline", {}, token_from="/invitations")
    assert response.status_code == 303
    assert flashes(eve) == ["You declined the invitation to “Team”."]
    assert count(app, Invitation) == 0
    assert role_of(app, team, "eve@example.com") is None
    assert "waiting for you" not in text(eve.get("/tasks"))
    assert "No invitations are waiting for you." in text(eve.get("/invitations"))


def test_nobody_else_can_answer_an_invitation(app, team):
    invite(signed_in(app, "ada@example.com"), team, "eve@example.com")
    with app.app_context():
        invitation = db.session.scalar(select(Invitation.id))
    dee = signed_in(app, "dee@example.com")
    assert "Team" not in text(dee.get("/invitations"))
    for answer in ("accept", "decline"):
        response = post_form(dee, f"/invitations/{invitation}/{answer}", {}, token_from="/tasks")
        assert response.status_code == 404
    assert count(app, Invitation) == 1
    assert role_of(app, team, "dee@example.com") == Role.VIEWER


def test_someone_who_registers_with_the_invited_address_sees_it_once_verified(app, team, tmp_path):
    """Registering with an address is not owning it: the invitation (and its notice) waits
    until the registrant opens the link mailed there."""
    invite(signed_in(app, "ada@example.com"), team, "newcomer@example.com", "1")
    client = app.test_client()
    registered = post_form(
        client,
        "/register",
        {
            "email": "Newcomer@example.com",
            "display_name": "New",
            "password": "lantern-orbit-cactus-42",
            "confirm": "lantern-orbit-cactus-42",
        },
        token_from="/register",
    )
    assert registered.status_code == 302
    assert "invitation" not in text(client.get("/tasks"))
    waiting = text(client.get("/invitations"))
    assert "Team" not in waiting and "once you have verified that address" in waiting
    with app.app_context():
        [invitation] = db.session.scalars(select(Invitation.id)).all()
    refused = post_form(client, f"/invitations/{invitation}/accept", {}, token_from="/tasks")
    assert refused.status_code == 403
    assert "Verify your email address first" in text(refused)

    mailed = [m for m in read_eml(tmp_path / "mail") if m["To"] == "newcomer@example.com"]
    assert [m["Subject"] for m in mailed] == [
        "Ada invited you to “Team” on Tasklane",
        "Verify your email address for Tasklane",
    ]
    link = token_link(mailed[1], "/verify-email")
    token = link.split("token=")[1]
    verified = post_form(client, "/verify-email", {"token": token}, token_from="/tasks")
    assert verified.status_code == 303
    assert "1 invitation to a shared project is waiting for you" in text(client.get("/tasks"))
    assert "Team" in text(client.get("/invitations"))


@pytest.mark.parametrize("new_owner", ["", "x", "0", str(2**31), "9" * 30])
def test_a_hand_over_to_no_one_is_refused_as_input(app, team, new_owner):
    ada = signed_in(app, "ada@example.com")
    response = send(ada, team, f"/projects/{team}/transfer", {"new_owner": new_owner})
    assert response.status_code == 422
    assert "Choose one of the project&#39;s admins." in text(response)
    assert "Bob (bob@example.com)</option>" in text(response)  # the choice, shown again
    assert role_of(app, team, "ada@example.com") == Role.OWNER


def test_the_members_page_costs_the_same_however_many_members(app, team):
    ada = signed_in(app, "ada@example.com")
    costs = []
    for extra in (0, 20):
        if extra:
            add_users(app, extra, tasks_each=0, prefix="extra")
        with app.app_context():
            for n in range(extra):
                db.session.add(Invitation(project_id=team, email=f"invited{n}@example.com", role=1))
            db.session.commit()
        for n in range(extra):
            add_member(app, team, f"extra{n:03d}@example.com", Role.EDITOR)
        with count_queries(app) as statements:
            page = ada.get(members_url(team))
        assert page.status_code == 200
        assert text(page).count("<tr id=") == 4 + 2 * extra  # members and invitations
        costs.append(len(statements))
    assert costs[0] == costs[1], costs


def test_a_remembered_browser_coming_back_is_told_too(app, team):
    eve = app.test_client()
    assert login(eve, email="eve@example.com", remember=True).status_code == 302
    remember = eve.get_cookie("tasklane_remember").value
    invite(signed_in(app, "ada@example.com"), team, "eve@example.com")
    assert "waiting for you" not in text(eve.get("/tasks"))  # signed in before the invitation
    restarted = app.test_client()  # the session cookie is gone, the remember cookie stays
    restarted.set_cookie("tasklane_remember", remember)
    assert "1 invitation to a shared project is waiting for you" in text(restarted.get("/tasks"))


def test_a_project_does_not_pass_to_someone_who_owns_one_by_its_name(app, team):
    """Names are unique among one owner's projects: Bob owns a "team" already, so Ada's
    "Team" cannot become his; nothing changes until one is renamed."""
    add_project(app, "bob@example.com", "team")
    ada = signed_in(app, "ada@example.com")
    bob = user_id(app, "bob@example.com")
    response = send(ada, team, f"/projects/{team}/transfer", {"new_owner": str(bob)})
    assert response.status_code == 409
    assert "Bob already owns a project called “Team”" in text(response)
    assert "Members of “Team”" in text(response)
    assert role_of(app, team, "ada@example.com") == Role.OWNER
    assert role_of(app, team, "bob@example.com") == Role.ADMIN
    renamed = send(ada, team, f"/projects/{team}", {"name": "Team (Ada)", "colour": "#6b7280"})
    assert renamed.status_code == 303
    response = send(ada, team, f"/projects/{team}/transfer", {"new_owner": str(bob)})
    assert response.status_code == 303
    assert role_of(app, team, "bob@example.com") == Role.OWNER
