"""Seam: the one module-level Huey is pointed at the queue create_app's config names, after
its jobs were declared on it.

Why: Huey binds each task to the instance it was declared on, at import. Tasklane declares its
jobs once (app/jobs/queue.huey), but the queue they go to comes from the config: a SQLite file
in instance/ (`make run`), Redis (production), memory and inline (tests, the bench). Replacing
the instance would leave the jobs on the old one; this swaps its storage instead. It saves no
time; it is here because it sets attributes Huey does not document as settable.

Relies on (Huey 3.5.4): `Huey.__init__` keeps `name`, `storage_class` and `storage_kwargs` as
plain attributes and builds `storage` with `create_storage()`, which reads them (and returns
a MemoryStorage while immediate); the `immediate` setter rebuilds the storage only when the
mode changes. tests/test_seams.py's canary checks exactly this behaviour.
"""

from __future__ import annotations

from huey import Huey


def rebind(huey: Huey, *, name: str, storage_class: type, storage_kwargs: dict, immediate: bool):
    """Make `huey` enqueue into `storage_class(name, **storage_kwargs)`, or run tasks inline
    (in memory) when `immediate`."""
    huey.name = name
    huey.storage_class, huey.storage_kwargs = storage_class, storage_kwargs
    if huey.immediate != immediate:
        huey.immediate = immediate  # the setter builds the storage for the new mode
    else:
        huey.storage = huey.create_storage()
