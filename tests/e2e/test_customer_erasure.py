"""Erasing a customer against the running shop: every app erases its copy when it handles
CustomerErased from Kafka, no table keeps a trace of them, replaying every topic into
every group brings none back, and the processes' log lines never named them."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from loyalty.models import ErasedOrder as LoyaltyErased
from messagelog.models import MessageRecord
from messaging import replay
from messaging.models import ErasedKey, InboxEntry
from notifications.models import ErasedOrder as NotificationsErased
from notifications.models import Notification, SentEmail, SentText
from notifications.services import notification_resend
from shop import services
from shop.contracts import Customer, RequestedLine
from shop.models import Order
from tests.e2e.conversation import buy, settled
from tests.factories import product
from warehouse.models import ErasedOrder as WarehouseErased

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def someone() -> dict:
    """A customer of this test alone: the session's topics hold other tests' orders."""
    tag = uuid.uuid4().hex[:8]
    return {
        "name": f"Erin {tag.upper()}",
        "email": f"erin-{tag}@example.com",
        "phone": f"+1 555 {int(tag[:6], 16) % 10**7:07d}",
        "address": f"{tag} Forget-me Lane, Springfield",
    }


def tables_naming(values: list[str]) -> dict[str, int]:
    """Every table with a row whose text names one of `values` (a row cast to text holds
    every column: JSON payloads, text, the lot), and how many rows."""
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            conditions = " OR ".join(["t::text ILIKE %s"] * len(values))
            cursor.execute(
                f'SELECT count(*) FROM "{table}" AS t WHERE {conditions}',
                [f"%{value}%" for value in values],
            )
            count = cursor.fetchone()[0]
            if count:
                found[table] = count
    return found


def test_an_erased_customer_leaves_no_trace_in_any_table_even_after_a_replay(
    live_server, wait_until, shop_processes
):
    started = timezone.now() - timedelta(seconds=1)
    person = someone()
    values = list(person.values())
    sku, gone = (f"ERA-{uuid.uuid4().hex[:6].upper()}" for _ in range(2))
    product(sku, stock=5)
    order_id = buy(live_server, sku, 1, **person)
    # A request the shop refuses (its product is not for sale): no order, but the log and
    # the outbox keep its PlaceOrder, customer and all.
    refused = services.order_request(
        customer=Customer(**person), lines=[RequestedLine(sku=gone, quantity=1)]
    )
    wait_until(lambda: settled(order_id), what="the order to be dispatched")
    wait_until(
        lambda: Notification.objects.filter(order_id=order_id, status="sent").count() == 6,
        what="every email and text to be sent",
    )
    # An operator's "send again": a SendEmail through Kafka, answered by a new email.
    email = Notification.objects.get(order_id=order_id, kind="dispatched", channel="email")
    notification_resend(notification=email)
    wait_until(
        lambda: Notification.objects.filter(order_id=order_id, status="sent").count() == 7,
        what="the email sent again",
    )
    wait_until(
        lambda: MessageRecord.objects.filter(
            key=str(refused.order_id), type="shop.OrderRejected"
        ).exists(),
        what="the request to be refused",
    )
    assert tables_naming(values)  # the customer is everywhere, to begin with

    call_command("erase_customer", email=person["email"].upper())

    erased = {str(order_id), str(refused.order_id)}
    wait_until(
        lambda: set(ErasedKey.objects.values_list("key", flat=True)) >= erased,
        what="the message log to witness both erasures",
    )
    wait_until(
        lambda: (
            WarehouseErased.objects.filter(order_id=order_id).exists()
            and NotificationsErased.objects.filter(order_id=order_id).exists()
            and LoyaltyErased.objects.filter(order_id=order_id).exists()
        ),
        what="the warehouse, notifications and loyalty to erase their copies",
    )
    assert tables_naming(values) == {}
    order = Order.objects.get(id=order_id)
    assert order.status == Order.Status.DISPATCHED and order.lines.count() == 1

    # Replays after the erasure. First the command topics alone: the commands sent before
    # it (the PlaceOrder refused then, the operator's "send again") come back without the
    # CustomerErased that followed them. Then every topic into every group.
    product(gone, stock=5)  # the refused request, replayed now, would become an order
    conversations = [order.correlation_id, refused.correlation_id]
    sent = (SentEmail.objects.count(), SentText.objects.count())
    notifications = Notification.objects.count()
    for group, topics in (
        ("shop", ["shop.commands"]),
        ("notifications", ["notifications.commands"]),
    ):
        InboxEntry.objects.filter(correlation_id__in=conversations).delete()
        report = replay.run(
            replay.plan(group_name=group, topics=topics, since=started, allow_commands=True)
        )
        assert report.count("handled") >= 1, (group, report.outcomes)
    InboxEntry.objects.filter(correlation_id__in=conversations).delete()
    for group in ("shop", "warehouse", "notifications", "sales", "loyalty"):
        replay.run(replay.plan(group_name=group, since=started, allow_commands=True))

    assert not Order.objects.filter(id=refused.order_id).exists()
    assert Notification.objects.count() == notifications
    assert (SentEmail.objects.count(), SentText.objects.count()) == sent
    assert tables_naming(values) == {}

    # The relay's and the worker's log lines never named the customer.
    logs = "\n".join(path.read_text() for path in shop_processes.values())
    assert logs
    assert [value for value in values if value.lower() in logs.lower()] == []
