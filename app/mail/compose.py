"""Building a message: both parts from the templates, the headers, and links from BASE_URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
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


def token_from_seed(seed: str) -> str:
    """The token a token link (token_link()) carries: an HMAC of its seed under SECRET_KEY,
    43 characters, like 32 random bytes. Changing SECRET_KEY breaks links still in the mail."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"tasklane-mailed-token:" + seed.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_link(endpoint: str, seed: str) -> dict:
    """A link to `endpoint` that carries a token, queued as the token's seed: compose() makes
    the token and the link (`link_url`) in the worker, so the queue (Redis, or the SQLite
    queue file) never holds a working reset or verification link. The seed alone opens
    nothing: the token needs SECRET_KEY too, and the database holds only its hash."""
    return {"endpoint": endpoint, "seed": seed}


def compose(to: str, template: str, subject: str, context: dict) -> EmailMessage:
    """The message `template` makes for `to`: text part first, HTML as its alternative.
    With `unsubscribe_url` in `context` (app/mail/unsubscribe.py), the footers show it and
    the List-Unsubscribe headers carry it."""
    config = current_app.config
    values = {**context, "subject": subject, "home_url": external_url("main.index")}
    if link := values.pop("token_link", None):
        values["link_url"] = external_url(link["endpoint"], token=token_from_seed(link["seed"]))
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
