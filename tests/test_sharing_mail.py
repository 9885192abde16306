"""Invitations by mail, through a real SMTP server: whoever is invited gets a message with
the project, the inviter, the role and the ways in, the same whether or not the address has
an account, and the inviter's answer does not tell which either. Without MAIL_HOST the
message is written as a .eml file, like every other."""

from __future__ import annotations

import re

import pytest

from tests.helpers import add_project, create_user, login, post_form
from tests.mailbox import parts, read_eml

pytestmark = pytest.mark.security

ADA, KNOWN, UNKNOWN = "ada@example.com", "eve@example.com", "nobody@example.com"


@pytest.fixture
def app(make_app, mailbox):
    return make_app(**mailbox.settings)


def invite(app, project_id: int, email: str, role: str = "2"):
    """Ada, signed in afresh, invites `email`: the response and the page it leads to."""
    client = app.test_client()
    assert login(client, email=ADA).status_code == 302
    members = f"/projects/{project_id}/members"
    response = post_form(
        client,
        f"/projects/{project_id}/invitations",
        {"email": email, "role": role},
        token_from=members,
    )
    return response, client.get(response.headers["Location"]).get_data(as_text=True)


def _comparable(response, page: str, email: str) -> tuple:
    """What the inviter sees, without the address typed, the tokens that differ from page to
    page, and numbers (the project's id, times)."""
    page = re.sub(r'(csrf-token" content=|"X-CSRFToken": |value=)"[^"]+"', r"\1", page)
    return (
        response.status_code,
        re.sub(r"\d+", "N", response.headers["Location"]),
        re.sub(r"\d+", "N", page.replace(email, "EMAIL")),
    )


def test_known_and_unknown_addresses_get_the_same_mail_and_the_inviter_the_same_answer(
    app, mailbox
):
    create_user(app, email=ADA, name="Ada")
    create_user(app, email=KNOWN, name="Eve")
    first, second = add_project(app, ADA, "Garden"), add_project(app, ADA, "Garden")
    answers = [
        _comparable(*invite(app, first, KNOWN), KNOWN),
        _comparable(*invite(app, second, UNKNOWN), UNKNOWN),
    ]
    assert answers[0] == answers[1]
    assert answers[0][0] == 303
    assert "is invited as editor. We sent them an email" in answers[0][2]

    [to_known], [to_unknown] = mailbox.to(KNOWN), mailbox.to(UNKNOWN)
    assert [rcpt for _, rcpt in mailbox.envelopes] == [[KNOWN], [UNKNOWN]]
    assert to_known["Subject"] == to_unknown["Subject"] == "Ada invited you to “Garden” on Tasklane"
    known_text, known_html = parts(to_known)
    unknown_text, unknown_html = parts(to_unknown)
    assert known_text.replace(KNOWN, "X") == unknown_text.replace(UNKNOWN, "X")
    assert known_html.replace(KNOWN, "X") == unknown_html.replace(UNKNOWN, "X")
    flat = " ".join(known_text.split())
    assert f'Ada invited {KNOWN} to the project "Garden" on Tasklane, as editor.' in flat
    assert "http://tasklane.test/invitations" in known_text
    assert "http://tasklane.test/register" in known_text
    assert 'href="http://tasklane.test/invitations"' in known_html
    assert "<strong>“Garden”</strong>" in known_html


def test_the_invitee_follows_the_mail_to_the_invitation(app, mailbox):
    create_user(app, email=ADA, name="Ada")
    create_user(app, email=KNOWN, name="Eve")
    project = add_project(app, ADA, "Garden")
    invite(app, project, KNOWN, role="1")
    [message] = mailbox.to(KNOWN)
    assert "as viewer" in parts(message)[0]
    eve = app.test_client()
    path = re.search(r"http://tasklane\.test(/invitations)\b", parts(message)[0]).group(1)
    assert eve.get(path).headers["Location"].startswith("/login?next=")
    assert login(eve, email=KNOWN).status_code == 302
    page = eve.get(path).get_data(as_text=True)
    assert "Garden" in page and "Viewer" in page and "Ada" in page


def test_hostile_names_stay_text_in_the_mail(app, mailbox):
    create_user(app, email=ADA, name='Ada <img src=x onerror="alert(1)">')
    project = add_project(app, ADA, "<script>x</script>")
    invite(app, project, UNKNOWN)
    [message] = mailbox.messages
    text, html = parts(message)
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x</script>" in text  # plain text is not HTML: shown as typed


def test_without_mail_host_the_invitation_is_written_as_a_file(make_app, tmp_path):
    app = make_app()
    create_user(app, email=ADA, name="Ada")
    project = add_project(app, ADA, "Garden")
    invite(app, project, UNKNOWN)
    [message] = read_eml(tmp_path / "mail")
    assert message["To"] == UNKNOWN
    assert message["Subject"] == "Ada invited you to “Garden” on Tasklane"


def test_inviting_a_member_mails_nobody(app, mailbox):
    create_user(app, email=ADA, name="Ada")
    project = add_project(app, ADA, "Garden")
    response, page = invite(app, project, ADA)
    assert response.status_code == 303 and "is a member of this project already" in page
    assert mailbox.messages == []
