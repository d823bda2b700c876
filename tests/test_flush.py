"""The flush after a transactional test survives losing a deadlock to another connection."""

import threading
import time

import psycopg
import pytest
from django.db import connection
from django.test import TransactionTestCase

from shop.models import Category

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_flush_that_loses_a_deadlock_runs_again_and_empties_every_table():
    Category.objects.create(name="Mugs", slug="mugs")
    # The flush's one TRUNCATE locks the tables in this order (Django's sqlflush).
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    first, last = tables[0], tables[-1]
    dsn = connection.get_connection_params()
    dsn.pop("cursor_factory", None), dsn.pop("context", None)
    ready, waited = threading.Event(), []

    def the_other_side():
        # Holds the flush's last table, then asks for its first: a deadlock, which
        # PostgreSQL breaks by failing the flush (it has waited longer).
        with psycopg.connect(**dsn) as other:
            other.execute("SET deadlock_timeout = '10s'")
            other.execute(f'LOCK TABLE "{last}" IN ROW EXCLUSIVE MODE')
            ready.set()
            time.sleep(0.5)
            started = time.monotonic()
            other.execute(f'SELECT 1 FROM "{first}" LIMIT 1')
            waited.append(time.monotonic() - started)

    thread = threading.Thread(target=the_other_side)
    thread.start()
    ready.wait(5)
    try:
        TransactionTestCase("__init__")._fixture_teardown()
    finally:
        thread.join(30)

    assert waited and waited[0] < 10, "the other side was not the one kept waiting"
    assert not Category.objects.exists()
