"""The consumers' PostgreSQL connections terminated mid-stream, again and again.

`pg_terminate_backend` is what a failover, a restart of PostgreSQL or a connection pooler
does to a client: its next statement fails, and a transaction in progress is rolled back.
Each worker names itself to PostgreSQL (PGAPPNAME), so only the workers' connections are
cut; the relay and this test keep theirs.
"""

import pytest
from django.db import connection

from tests.faults.stack import APPLICATION_NAME_PREFIX

pytestmark = pytest.mark.faults

ROUNDS = 4


def test_consumers_survive_their_database_connections_being_terminated(shop):
    shop.stack.start_all()
    shop.stream.place(40)
    shop.wait(lambda: shop.handled("warehouse") >= 10, what="consumers to be handling")

    terminated = []
    for _ in range(ROUNDS):
        handled = shop.handled("notifications")
        shop.stream.place(40)
        # Consumers are busy with those orders: cut them off mid-transaction.
        shop.wait(lambda h=handled: shop.handled("notifications") > h, what="handling")
        terminated.append(terminate_worker_connections())
    exercised = shop.settle()

    noticed = sum(
        shop.stack.log(name).count("terminating connection due to administrator command")
        for name in shop.stack.logs
        if name.startswith("worker-")
    )
    shop.report(
        "the workers' PostgreSQL connections terminated",
        exercised,
        **{
            "connections terminated per round": terminated,
            "errors the workers logged for it": noticed,
        },
    )
    assert all(terminated) and noticed > 0


def terminate_worker_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
            FROM pg_stat_activity
            WHERE datname = current_database() AND application_name LIKE %s
            """,
            [f"{APPLICATION_NAME_PREFIX}worker-%"],
        )
        return cursor.fetchone()[0]
