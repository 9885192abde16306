"""Building a message: both parts from the templates, the headers, and links from BASE_URL."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from flask import current_app, render_template


def external_url(endpoint: str, **values) -> str:
    """An absolute link to `endpoint` on BASE_URL. Built on a URL adapter of its own, so
    nothing of the request (its Host, X-Forwarded-Host, scheme or port) can enter it."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def compose(to: str, template: str, subject: str, context: dict) -> EmailMessage:
    """The message `template` makes for `to`: text part first, HTML as its alternative.
    With `unsubscribe_url` in `context` (app/mail/unsubscribe.py), the footers show it and
    the List-Unsubscribe headers carry it."""
    config = current_app.config
    values = {**context, "subject": subject, "home_url": external_url("main.index")}
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=urlsplit(config["BASE_URL"]).hostname)
    # RFC 3834: sent by a program, so auto-responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    if values.get("unsubscribe_url"):
        # RFC 2369 and RFC 8058: mail clients offer an "Unsubscribe" button that POSTs
        # "List-Unsubscribe=One-Click" to this address, with no page in between.
        message["List-Unsubscribe"] = f"<{values['unsubscribe_url']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(render_template(f"mail/{template}.txt", **values))
    message.add_alternative(render_template(f"mail/{template}.html", **values), subtype="html")
    return message
