"""The message log's filters: by kind and by what the consumer groups made of a message."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from messagelog.models import MessageRecord
from messaging.models import DeadLetter
from tests.messagelog.records import dead_lettered, failed, handled, logged

pytestmark = pytest.mark.django_db

LOG = reverse("admin:messagelog_messagerecord_changelist")


@pytest.fixture
def log():
    """One record per outcome worth filtering for."""
    correlation_id = uuid.uuid4()
    rows = {}
    rows["fine"] = logged("warehouse.DispatchOrder", correlation_id=correlation_id)
    handled(rows["fine"], "warehouse")
    rows["retried"] = logged("warehouse.DispatchOrder", correlation_id=correlation_id)
    failed(rows["retried"], "warehouse", 1)
    handled(rows["retried"], "warehouse")
    rows["dead_lettered"] = logged("warehouse.DispatchOrder", correlation_id=correlation_id)
    dead_lettered(rows["dead_lettered"], "warehouse")
    rows["duplicate"] = logged("shop.PlaceOrder", correlation_id=correlation_id)
    handled(rows["duplicate"], "shop", duplicates=1)
    rows["pending"] = logged("shop.OrderPlaced", correlation_id=correlation_id)
    for group in ("warehouse", "sales"):
        handled(rows["pending"], group)  # notifications has not got to it
    rows["long_ago"] = logged(
        "shop.OrderConfirmed", correlation_id=correlation_id, at=timezone.now() - timedelta(days=3)
    )
    rows["unreadable"] = MessageRecord.objects.create(
        topic="orders", partition=0, offset=1, raw_value="not json"
    )
    DeadLetter.objects.create(
        group="sales",
        topic="orders",
        partition=0,
        offset=1,
        reason=DeadLetter.Reason.MALFORMED,
        error="the value is not JSON",
    )
    return rows


def listed(client, query: str, rows: dict) -> set[str]:
    response = client.get(f"{LOG}?{query}")
    assert response.status_code == 200
    ids = {r.pk for r in response.context["cl"].result_list}
    return {name for name, row in rows.items() if row.pk in ids}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("outcome=dead_lettered", {"dead_lettered", "unreadable"}),
        ("outcome=failed", {"retried"}),
        ("outcome=problem", {"dead_lettered", "unreadable", "retried"}),
        ("outcome=duplicate", {"duplicate"}),
        # The confirmation nobody handled is too old to count as waiting.
        ("outcome=pending", {"pending"}),
        ("kind=bad", {"unreadable"}),
        ("kind=command", {"fine", "retried", "dead_lettered", "duplicate"}),
        ("type=shop.OrderPlaced", {"pending"}),
        ("topic=shop.commands", {"duplicate"}),
        ("app=warehouse", {"fine", "retried", "dead_lettered"}),
    ],
)
def test_each_filter_lists_exactly_its_records(admin_client, log, query, expected):
    assert listed(admin_client, query, log) == expected
