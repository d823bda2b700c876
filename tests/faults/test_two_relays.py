"""Two relays under a backlog, and the leader's database session terminated, again and again.

The leader holds the relay's advisory lock in its one session and picks every batch in
that session, fenced by the lock. Terminating the session is what a failover or a
connection pooler does: the lock goes with it, the standby takes over, and the old leader
must not publish another row, or one order's messages could leave out of order.
"""

import time

import pytest
from django.db import connection

from messaging.models import OutboxMessage
from messaging.relay import RELAY_LOCK_ID
from tests.faults.stack import APPLICATION_NAME_PREFIX

pytestmark = pytest.mark.faults

BACKLOG = 150
ROUNDS = 3


def test_two_relays_and_the_leaders_session_terminated_keep_every_order_in_order(shop):
    shop.stack.start_all(without=["relay"])
    shop.stream.place(BACKLOG)
    relay = ["/bin/sh", "-c", f"exec {shop.stack.lines['relay']}"]
    shop.stack.start("relay", relay)
    shop.stack.start("relay-2", relay)

    taken_over = []
    for _ in range(ROUNDS):
        before = published()
        leader = shop.wait(leader_pid, what="a relay to lead")
        shop.wait(lambda b=before: published() > b, what="the leader to publish")
        terminate(leader)
        taken_over.append(shop.wait(lambda old=leader: new_leader(old), what="a standby to lead"))
        shop.stream.place(30)  # more backlog for the next leader
    shop.stream.cancel_some(15)
    exercised = shop.settle()

    shop.report(
        "two relays, the leader's database session terminated under a backlog",
        exercised,
        **{
            "leaderships lost": ROUNDS,
            "relays that took over (application names)": taken_over,
            "messages published": OutboxMessage.objects.filter(published_at__isnull=False).count(),
        },
    )
    assert len(taken_over) == ROUNDS and set(taken_over) <= {
        f"{APPLICATION_NAME_PREFIX}relay",
        f"{APPLICATION_NAME_PREFIX}relay-2",
    }


def leader_pid() -> int | None:
    return _leader()[0]


def new_leader(old: int) -> str | None:
    pid, name = _leader()
    return name if pid and pid != old else None


def _leader() -> tuple[int | None, str | None]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT l.pid, a.application_name FROM pg_locks l
            JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s
            """,
            [RELAY_LOCK_ID >> 32, RELAY_LOCK_ID & 0xFFFFFFFF],
        )
        row = cursor.fetchone()
    return row if row else (None, None)


def published() -> int:
    return OutboxMessage.objects.filter(published_at__isnull=False).count()


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    time.sleep(0.05)
