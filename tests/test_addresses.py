"""Verified addresses and changing one's address, against a real SMTP server: the link
registration mails (single-use, seven days, stored hashed, for its own account and address
only), the account page's notice and "send it again", and a change of address that happens
only when the link mailed to the new address is opened: identical answers for a free and a
taken address, a notice to the old one, and links that die with the password, the address,
or a race for it."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, update

from app.extensions import db
from app.models import AuditEntry, User, UserToken, utcnow
from tests.helpers import (
    PASSWORD,
    change_password,
    count,
    create_user,
    csrf_token,
    get_user,
    login,
    post_form,
)
from tests.live import all_at_once
from tests.mailbox import parts, reset_link, token_link

pytestmark = pytest.mark.security

ADA, NEW, BOB = "ada@example.com", "ada@new.example", "bob@example.com"
VERIFY, CONFIRM = "/verify-email", "/confirm-email"
GONE = "This link no longer works"
VERIFY_SUBJECT = "Verify your email address for Tasklane"


@pytest.fixture
def app(make_app, mailbox):
    return make_app(**mailbox.settings)


def signed_in(app, email: str = ADA):
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    return client


def register(client, email: str = ADA):
    fields = {"email": email, "display_name": "Ada", "password": PASSWORD, "confirm": PASSWORD}
    return post_form(client, "/register", fields, token_from="/register")


def token_in(message, path: str) -> str:
    return parse_qs(urlsplit(token_link(message, path)).query)["token"][0]


def mailed_token(mailbox, to: str, subject: str, path: str) -> str:
    [message] = [m for m in mailbox.to(to) if m["Subject"] == subject]
    return token_in(message, path)


def open_link(client, path: str, token: str):
    return client.get(f"{path}?token={token}")


def use_link(client, path: str, token: str):
    """The button on the link's page (its CSRF token from that page)."""
    return post_form(client, path, {"token": token}, token_from=f"{path}?token={token}")


def text(response) -> str:
    return response.get_data(as_text=True)


def gone(response) -> None:
    assert response.status_code == 410, response.status_code
    assert GONE in text(response)
    assert 'href="/account">Ask for a new one on your account page</a>' in text(response)


def verified_at(app, email: str = ADA):
    return get_user(app, email).email_verified_at


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def registered(app, mailbox, email: str = ADA):
    """A client that registered `email` (signed in), and the verification token mailed."""
    client = app.test_client()
    assert register(client, email).status_code == 302
    return client, mailed_token(mailbox, email, VERIFY_SUBJECT, VERIFY)


# ---- verification --------------------------------------------------------------------------


def test_registration_mails_a_link_and_the_app_is_usable_before_it_is_opened(app, mailbox):
    client = app.test_client()
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"] == "/tasks"
    landed = text(client.get("/tasks"))
    assert "Welcome to Tasklane!" in landed
    assert f"To verify your address, open the link we sent to {ADA}." in landed
    [message] = mailbox.messages
    text_part, html = parts(message)
    assert (message["To"], message["Subject"]) == (ADA, VERIFY_SUBJECT)
    link = token_link(message, VERIFY)
    assert link.startswith("http://tasklane.test/verify-email?token=")
    assert "Hello Ada," in text_part and "within seven days" in text_part
    assert "Verify my address</a>" in html
    assert verified_at(app) is None
    account = text(client.get("/account"))
    assert 'id="verify-notice"' in account and "not verified" in account
    assert 'action="/account/verification"' in account


def test_the_link_is_stored_hashed_for_seven_days(app, mailbox):
    _, token = registered(app, mailbox)
    with app.app_context():
        [row] = db.session.scalars(select(UserToken)).all()
    assert (row.purpose, row.email) == ("verify", ADA)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.expires_at - row.created_at == timedelta(days=7)


def test_the_link_shows_a_button_that_verifies_once(app, mailbox):
    client, token = registered(app, mailbox)
    page = open_link(client, VERIFY, token)
    assert page.status_code == 200
    assert ADA in text(page) and "Verify my address</button>" in text(page)
    assert verified_at(app) is None  # opening the page (a mail scanner would) changes nothing
    response = use_link(client, VERIFY, token)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    account = text(client.get("/account"))
    assert f"Your address {ADA} is verified." in account
    assert 'id="verify-notice"' not in account and "badge-success" in account
    assert verified_at(app) is not None
    assert audit_actions(app)[-1] == "email_verified"
    gone(open_link(client, VERIFY, token))
    gone(use_link(client, VERIFY, token))
    gone(use_link(app.test_client(), VERIFY, token))


def test_opened_signed_out_the_link_verifies_and_leads_to_sign_in(app, mailbox):
    _, token = registered(app, mailbox)
    elsewhere = app.test_client()  # a phone, say, not signed in
    assert open_link(elsewhere, VERIFY, token).status_code == 200
    response = use_link(elsewhere, VERIFY, token)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "is verified. Sign in to go on." in text(elsewhere.get("/login"))
    assert verified_at(app) is not None


def test_another_accounts_link_is_refused_and_left_unused(app, mailbox):
    _, token = registered(app, mailbox)
    create_user(app, email=BOB, name="Bob")
    bob = signed_in(app, BOB)
    for response in (open_link(bob, VERIFY, token), use_link(bob, VERIFY, token)):
        assert response.status_code == 403
        assert "This link was mailed for another account" in text(response)
    assert verified_at(app) is None and verified_at(app, BOB) is not None
    assert use_link(app.test_client(), VERIFY, token).status_code == 303
    assert verified_at(app) is not None


def test_an_expired_link_fails(app, mailbox):
    client, token = registered(app, mailbox)
    with app.app_context():
        db.session.execute(update(UserToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    gone(open_link(client, VERIFY, token))
    gone(use_link(client, VERIFY, token))
    assert verified_at(app) is None


@pytest.mark.parametrize("token", ["not-a-token", "x" * 5000, ""])
def test_unknown_or_missing_tokens(app, client, token):
    if token:
        gone(client.get(f"{VERIFY}?token={token}"))
        gone(client.get(f"{CONFIRM}?token={token}"))
    else:  # no token at all: the account page (here, sign-in first)
        assert client.get(VERIFY).headers["Location"] == "/account"
        assert client.get(CONFIRM).headers["Location"] == "/account"


def resend(client):
    return post_form(client, "/account/verification", {}, token_from="/account")


def test_sending_the_link_again_replaces_the_first(app, mailbox):
    client, first = registered(app, mailbox)
    response = resend(client)
    assert response.status_code == 303
    assert f"We sent a new link to {ADA}." in text(client.get("/account"))
    second = token_in(mailbox.to(ADA)[-1], VERIFY)
    assert second != first and len(mailbox.to(ADA)) == 2
    gone(use_link(client, VERIFY, first))
    assert use_link(client, VERIFY, second).status_code == 303
    assert resend(client).status_code == 303
    assert "Your address is verified already." in text(client.get("/account"))
    assert len(mailbox.to(ADA)) == 2


def test_messages_about_ones_address_are_rate_limited_per_user(make_app, mailbox):
    app = make_app(ADDRESS_RATE_LIMIT="2/hour", **mailbox.settings)
    client, _ = registered(app, mailbox)
    assert resend(client).status_code == 303
    assert change(client, NEW).status_code == 303  # one allowance for both
    refused = resend(client)
    assert refused.status_code == 429 and "Too many attempts" in text(refused)
    assert change(client, "other@new.example").status_code == 429
    assert [m["To"] for m in mailbox.messages] == [ADA, ADA, NEW]  # the unverified old: none
    create_user(app, email=BOB, name="Bob")
    assert resend(signed_in(app, BOB)).status_code == 303  # per user, not per address


def test_recovery_reaches_an_unverified_address(app, mailbox):
    """The one kind of mail an unverified address gets besides its own verification."""
    registered(app, mailbox)
    other = app.test_client()
    post_form(other, "/forgot-password", {"email": ADA}, token_from="/forgot-password")
    assert reset_link(mailbox.to(ADA)[-1])


def test_users_from_before_verification_count_as_verified_and_reset_links_carry_over(app, mailbox):
    """The migration, down and up again on the test's database: whoever exists at upgrade
    time is verified from their creation, and a waiting reset link keeps working."""
    registered(app, mailbox)
    post_form(app.test_client(), "/forgot-password", {"email": ADA}, token_from="/forgot-password")
    link = reset_link(mailbox.to(ADA)[-1])
    with app.app_context():
        try:
            downgrade(revision="e1a7c3d9b5f2")
            columns = {c["name"] for c in inspect(db.engine).get_columns("users")}
            assert "email_verified_at" not in columns
        finally:
            upgrade()
        user = db.session.scalar(select(User).where(User.email == ADA))
        assert user.email_verified_at == user.created_at
        assert db.session.scalars(select(UserToken.purpose)).all() == ["reset"]
    page = app.test_client().get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert page.status_code == 200 and "Choose a new password" in text(page)


# ---- changing one's address ----------------------------------------------------------------


def change(client, new_email: str, password: str = PASSWORD):
    fields = {"new_email": new_email, "current_password": password}
    return post_form(client, "/account/email", fields, token_from="/account/email")


CONFIRM_SUBJECT = "Confirm your new address for Tasklane"
NOTICE_SUBJECT = "A new address for your Tasklane account was asked for"
TAKEN_SUBJECT = "Someone tried to use your address on Tasklane"


def test_a_change_mails_a_link_to_the_new_address_and_a_notice_to_the_old_and_waits(app, mailbox):
    create_user(app)
    client = signed_in(app)
    assert 'href="/account/email">Change your email address</a>' in text(client.get("/account"))
    response = change(client, " Ada@New.Example ")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert f"We sent a link to {NEW}. Your address changes when you open it" in text(
        client.get("/account")
    )
    assert sorted((m["To"], m["Subject"]) for m in mailbox.messages) == [
        (ADA, NOTICE_SUBJECT),
        (NEW, CONFIRM_SUBJECT),
    ]
    [notice] = mailbox.to(ADA)
    notice_text, _ = parts(notice)
    assert NEW in notice_text and "token" not in notice_text
    assert "http://tasklane.test/account" in notice_text
    [confirmation] = mailbox.to(NEW)
    token = token_in(confirmation, CONFIRM)
    assert f"move the Tasklane account {ADA} to this address" in " ".join(
        parts(confirmation)[0].split()
    )
    # Nothing changes until the link is opened.
    assert get_user(app, ADA) is not None and get_user(app, NEW) is None
    assert login(app.test_client(), email=ADA).status_code == 302

    page = open_link(client, CONFIRM, token)
    assert page.status_code == 200
    assert ADA in text(page) and NEW in text(page) and "Use my new address</button>" in text(page)
    assert get_user(app, NEW) is None
    response = use_link(client, CONFIRM, token)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    account = text(client.get("/account"))
    assert f"Your address is now {NEW} (it was {ADA})." in account
    assert f"Signed in as <strong>{NEW}</strong>" in account  # this browser stays signed in
    user = get_user(app, NEW)
    assert user is not None and user.email_verified_at is not None and get_user(app, ADA) is None
    about_address = [a for a in audit_actions(app) if a.startswith("email_")]
    assert about_address == ["email_change_requested", "email_changed"]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.actor_email, entry.target_email, entry.detail) == (NEW, NEW, f"from {ADA}")
    assert login(app.test_client(), email=NEW).status_code == 302
    assert login(app.test_client(), email=ADA).status_code == 401
    gone(use_link(client, CONFIRM, token))


@pytest.mark.parametrize(
    ("new_email", "password", "message"),
    [
        (NEW, "not-my-password", "Your current password is not correct."),
        (ADA, PASSWORD, "This is your address already."),
        ("ADA@example.com ", PASSWORD, "This is your address already."),
        ("not-an-address", PASSWORD, "An email address must have an @-sign."),
        ("", PASSWORD, "This field is required."),
        (NEW, "", "This field is required."),
    ],
)
def test_a_change_without_the_password_or_to_nowhere_is_refused(
    app, mailbox, new_email, password, message
):
    create_user(app)
    client = signed_in(app)
    response = change(client, new_email, password)
    assert response.status_code == 422
    assert message in text(response)
    assert mailbox.messages == [] and count(app, UserToken) == 0
    assert "email_change_requested" not in audit_actions(app)


def _answer(client, response, new_email: str) -> tuple:
    """What the asker sees, the address they typed set aside."""
    landed = text(client.get(response.headers["Location"]))
    flashes = [line.strip() for line in landed.splitlines() if "We sent a link to" in line]
    return (
        response.status_code,
        response.headers["Location"],
        [line.replace(new_email, "NEW") for line in flashes],
    )


def test_a_taken_address_gets_the_same_answer_and_a_note_instead_of_a_link(app, mailbox):
    create_user(app)
    create_user(app, email=BOB, name="Bob")
    client = signed_in(app)
    free = _answer(client, change(client, NEW), NEW)
    taken = _answer(client, change(client, BOB), BOB)
    assert free == taken and free[0] == 303 and len(free[2]) == 1
    [note] = mailbox.to(BOB)
    note_text, _ = parts(note)
    assert note["Subject"] == TAKEN_SUBJECT
    assert "/confirm-email" not in note_text and "http://tasklane.test/forgot-password" in note_text
    # The old address hears the same either way.
    notices = [parts(m)[0].replace(NEW, "X").replace(BOB, "X") for m in mailbox.to(ADA)]
    assert len(notices) == 2 and notices[0] == notices[1]
    with app.app_context():
        assert db.session.scalars(select(UserToken.email)).all() == [NEW]
    assert get_user(app, BOB).display_name == "Bob" and get_user(app, ADA) is not None


def test_an_unverified_old_address_gets_no_notice(app, mailbox):
    """Mail to an account's owner waits for a verified address (app/mail/sending.py): the
    link goes to the new address, nothing to the old."""
    create_user(app, verified=False)
    client = signed_in(app)
    assert change(client, NEW).status_code == 303
    assert [(m["To"], m["Subject"]) for m in mailbox.messages] == [(NEW, CONFIRM_SUBJECT)]


def asked_for_change(app, mailbox, new_email: str = NEW):
    create_user(app)
    client = signed_in(app)
    assert change(client, new_email).status_code == 303
    return client, mailed_token(mailbox, new_email, CONFIRM_SUBJECT, CONFIRM)


def test_the_link_works_a_day(app, mailbox):
    client, token = asked_for_change(app, mailbox)
    with app.app_context():
        [row] = db.session.scalars(select(UserToken)).all()
        assert (row.purpose, row.email) == ("email", NEW)
        assert row.expires_at - row.created_at == timedelta(days=1)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    gone(open_link(client, CONFIRM, token))
    gone(use_link(client, CONFIRM, token))
    assert get_user(app, NEW) is None


def test_a_newer_request_replaces_the_link(app, mailbox):
    client, first = asked_for_change(app, mailbox)
    assert change(client, "ada@other.example").status_code == 303
    gone(use_link(client, CONFIRM, first))
    second = mailed_token(mailbox, "ada@other.example", CONFIRM_SUBJECT, CONFIRM)
    assert use_link(client, CONFIRM, second).status_code == 303
    assert get_user(app, "ada@other.example") is not None


def test_the_link_dies_when_the_password_changes(app, mailbox):
    client, token = asked_for_change(app, mailbox)
    assert change_password(client, PASSWORD, "a-different-secret-77").status_code == 302
    gone(open_link(app.test_client(), CONFIRM, token))
    gone(use_link(app.test_client(), CONFIRM, token))
    assert get_user(app, NEW) is None


def test_someone_elses_browser_cannot_use_the_link(app, mailbox):
    _, token = asked_for_change(app, mailbox)
    create_user(app, email=BOB, name="Bob")
    bob = signed_in(app, BOB)
    assert use_link(bob, CONFIRM, token).status_code == 403
    assert get_user(app, NEW) is None and get_user(app, BOB) is not None
    # Signed out (another device), the link works: it proves the new mailbox.
    assert use_link(app.test_client(), CONFIRM, token).status_code == 303
    assert get_user(app, NEW) is not None


def test_the_link_dies_if_the_address_is_taken_meanwhile(app, mailbox):
    client, token = asked_for_change(app, mailbox)
    assert register(app.test_client(), NEW).status_code == 302  # someone else, meanwhile
    for response in (open_link(client, CONFIRM, token), use_link(client, CONFIRM, token)):
        assert response.status_code == 409
        assert "Another account uses that address now" in text(response)
    assert get_user(app, ADA) is not None
    assert (
        get_user(app, NEW).display_name == "Ada" and get_user(app, NEW).id != get_user(app, ADA).id
    )


def test_confirming_and_registering_the_address_at_once_one_wins(app, mailbox):
    """The race the check before the write cannot see alone: a registration of the new
    address and the link's button at the same moment. One account ends up with it; the
    other request is told so (409, or the registration's own refusal)."""
    client, token = asked_for_change(app, mailbox)
    stranger = app.test_client()
    link_csrf = {"token": token}
    link_csrf["csrf_token"] = csrf_token(client, f"{CONFIRM}?token={token}")
    fields = {"email": NEW, "display_name": "Eve", "password": PASSWORD, "confirm": PASSWORD}
    fields["csrf_token"] = csrf_token(stranger, "/register")
    confirmed, joined = all_at_once(
        [
            lambda: client.post(CONFIRM, data=link_csrf),
            lambda: stranger.post("/register", data=fields),
        ]
    )
    holder = get_user(app, NEW)
    if confirmed.status_code == 303:
        assert joined.status_code == 422 and holder.display_name == "Ada"
        assert get_user(app, ADA) is None
    else:
        assert (confirmed.status_code, joined.status_code) == (409, 302)
        assert holder.display_name == "Eve" and get_user(app, ADA) is not None
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).where(User.email == NEW)) == 1


def test_a_change_ends_reset_links_mailed_to_the_old_address(app, mailbox):
    client, token = asked_for_change(app, mailbox)
    post_form(app.test_client(), "/forgot-password", {"email": ADA}, token_from="/forgot-password")
    reset = reset_link(mailbox.to(ADA)[-1])
    assert use_link(client, CONFIRM, token).status_code == 303
    response = app.test_client().get(urlsplit(reset).path + "?" + urlsplit(reset).query)
    assert response.status_code == 410


def test_a_verification_link_dies_when_the_address_changes(app, mailbox):
    client, verify_token = registered(app, mailbox)
    assert change(client, NEW).status_code == 303
    token = mailed_token(mailbox, NEW, CONFIRM_SUBJECT, CONFIRM)
    assert use_link(client, CONFIRM, token).status_code == 303
    gone(use_link(client, VERIFY, verify_token))
    assert verified_at(app, NEW) is not None  # the new address, proven by its link
