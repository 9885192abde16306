"""The signed cookie session, kept under browsers' 4 KB whatever the client does.

A plain-form action leaves a flash in the cookie (a deletion, its undo ids) for the page its
303 leads to, which shows and clears it. A client that never follows the redirect (a script, a
tab closed mid-way) never clears them: the cookie grew with every post until gunicorn refused
the request headers (431 for every request of that browser after ~2,100 quick adds), and a
browser silently drops a cookie over 4 KB, and the sign-in with it.

So, before the cookie is written: only the newest MAX_FLASHES flashes stay; and if the cookie
would still be over COOKIE_BUDGET (long non-ASCII messages, a long undo list), the oldest
flashes go, then the keys features marked `disposable`. What every session carries (the login
token, the CSRF token) is small and fixed. The hook into Flask's session interface that runs
`fit` is a framework seam: app/seams/session_cookie.py.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping

FLASHES = "_flashes"  # where flask.flash() keeps them (tests/test_seams.py checks)
MAX_FLASHES = 3  # a page shows one or two; a few more cover a double submit
# `name=value` bytes: browsers keep 4,096 of a cookie, and what they send in all (the
# remember cookie is ~60 more) stays under that too.
COOKIE_BUDGET = 3800

_DISPOSABLE: list[str] = []


def disposable(key: str) -> str:
    """Mark a session key whose value may be dropped to keep the cookie within its budget
    (a convenience, such as the undo of the last deletion); returns the key."""
    if key not in _DISPOSABLE:
        _DISPOSABLE.append(key)
    return key


def may_outgrow(session: MutableMapping) -> bool:
    """Whether `session` holds anything `fit` might have to trim."""
    # `in`, not get(): reading a key would mark the session accessed (Vary: Cookie).
    return any(key in session for key in (FLASHES, *_DISPOSABLE))


def fit(session: MutableMapping, cookie_bytes: Callable[[MutableMapping], int]) -> None:
    """Trim `session` until `cookie_bytes(session)` (its `name=value` size) is in budget."""
    flashes = session.get(FLASHES)
    if flashes and len(flashes) > MAX_FLASHES:
        session[FLASHES] = flashes[-MAX_FLASHES:]
    while cookie_bytes(session) > COOKIE_BUDGET:
        if session.get(FLASHES):
            session[FLASHES] = session[FLASHES][1:]  # the oldest first
        elif key := next((k for k in _DISPOSABLE if k in session), None):
            del session[key]
        else:
            return
