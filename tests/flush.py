"""The flush that ends a transactional test, tried again when it loses a deadlock.

pytest-django empties the database after a transactional test with one TRUNCATE of every
table, which locks them one after another. Where the runtime's processes are running
(tests/e2e, tests/faults) a delivery task or a heartbeat may still hold one of those tables
and want another; PostgreSQL breaks the deadlock by failing one side, and when that is
the flush, every later test of the module starts on the last one's rows. PostgreSQL's
answer to a deadlock is to run the transaction again, so the flush does.
"""

import functools
import time

from django.core.management.base import CommandError
from psycopg.errors import DeadlockDetected

ATTEMPTS = 5


def retrying(teardown):
    @functools.wraps(teardown)
    def flush(self):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return teardown(self)
            except CommandError as error:
                if attempt == ATTEMPTS or not lost_a_deadlock(error):
                    raise
                time.sleep(0.2 * attempt)

    return flush


def lost_a_deadlock(error: BaseException) -> bool:
    """Whether the flush's CommandError wraps PostgreSQL's deadlock (through Django's)."""
    while error is not None:
        if isinstance(error, DeadlockDetected):
            return True
        error = error.__cause__
    return False
