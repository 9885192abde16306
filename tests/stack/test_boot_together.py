"""Two instances booting at once on a new database, each running `flask db upgrade` first
as boot.sh does: the migration lock lets one migrate while the other waits, and both serve."""

from __future__ import annotations

import uuid

from deploy.stack import wait_serving
from tests.live import free_port
from tests.stack.helpers import in_log


def test_two_instances_starting_at_once_on_a_new_database_both_serve(stack):
    database = f"tasklane_boot_{uuid.uuid4().hex[:12]}"
    stack.create_database(database)
    names = ("boot1", "boot2")
    try:
        ports = {name: free_port() for name in names}
        pids = {
            name: stack.start_instance(name, port=ports[name], database=database, migrate=True)
            for name in names
        }
        for name in names:
            wait_serving(ports[name], pids[name], seconds=120)
        migrated = [n for n in names if in_log(stack.log(n), "Running upgrade")]
        assert len(migrated) == 1, "each revision ran once, by one of the two"
    finally:
        for name in names:
            stack.stop_process(name)
        stack.drop_database(database)
