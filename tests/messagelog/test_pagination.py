"""Paging the message log without counting the whole table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messagelog.models import MessageRecord
from messagelog.pagination import EstimatedCountPaginator, table_estimate
from tests.messagelog.records import long_conversation

pytestmark = pytest.mark.django_db


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_messagerecord")


def test_a_small_list_is_counted_exactly():
    long_conversation(12)

    paginator = EstimatedCountPaginator(MessageRecord.objects.order_by("-id"), 5, cap=100)

    assert (paginator.count, paginator.num_pages, paginator.exact) == (12, 3, True)


def test_a_filtered_list_is_counted_up_to_the_cap_only():
    long_conversation(30)
    queryset = MessageRecord.objects.filter(kind="event").order_by("-id")

    with CaptureQueriesContext(connection) as captured:
        paginator = EstimatedCountPaginator(queryset, 5, cap=10)
        count = paginator.count

    assert (count, paginator.exact, paginator.estimated) == (10, False, False)
    [sql] = [q["sql"] for q in captured]
    assert "LIMIT 11" in sql


def test_the_whole_table_is_estimated_by_postgresql_not_counted():
    long_conversation(40)
    analyze()

    with CaptureQueriesContext(connection) as captured:
        paginator = EstimatedCountPaginator(MessageRecord.objects.order_by("-id"), 5, cap=10)
        count = paginator.count

    assert (count, paginator.estimated) == (table_estimate("messaging_messagerecord"), True)
    assert count == 40  # just analysed: exact here, an estimate in general
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 11" in sql for sql in counts)


def test_a_stale_estimate_is_not_trusted_for_a_small_table():
    long_conversation(40)
    analyze()
    MessageRecord.objects.exclude(pk=MessageRecord.objects.first().pk).delete()

    paginator = EstimatedCountPaginator(MessageRecord.objects.order_by("-id"), 5, cap=10)

    assert (paginator.count, paginator.exact) == (1, True)
