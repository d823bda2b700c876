"""Event handlers are idempotent by their own state, not only by the inbox.

Event topics keep their records longer than the inbox remembers them (messaging.topics):
a replay, or a group whose offsets Kafka forgot, reads events whose inbox entries the
purge deleted long ago. So for each group that follows events, this empties its inbox,
replays every event topic it follows from the start, and finds that no effect repeats:
stock, reservations, emails and texts, sales figures, points, order statuses, messages
sent.
"""

import uuid
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from loyalty.models import Award
from messagelog.lag import total_lag_by_group
from messaging import replay
from messaging.models import InboxEntry, OutboxMessage, ParkedRecord
from messaging.registry import group
from messaging.topics import command_topics
from notifications.models import Notification, SentEmail, SentText
from sales.models import DailyProductSales, SaleRecord
from shop.models import Availability, Order
from shop.services import order_cancel_request
from tests.e2e.conversation import buy, settled
from tests.factories import product
from warehouse.models import Reservation, ReservationLine, Stock
from warehouse.services import dispatch_ship

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GROUPS = ["warehouse", "notifications", "sales", "loyalty", "shop"]


def quiet() -> bool:
    """Nothing in flight: published, handled by every group, packed, told."""
    return not (
        OutboxMessage.objects.filter(published_at=None).exists()
        or ParkedRecord.objects.exists()
        or Reservation.objects.filter(status=Reservation.Status.PACKING).exists()
        or Notification.objects.exclude(status=Notification.Status.SENT).exists()
        or any(total_lag_by_group(timeout_ms=2000).values())
    )


def effects(orders: list[uuid.UUID], skus: list[str]) -> dict[str, list]:
    """Everything the conversations changed, in every app, and every message sent."""
    by_order = {"order_id__in": orders}
    return {
        "orders": sorted(
            Order.objects.filter(id__in=orders).values_list(
                "id", "status", "status_reason", "cancellation_refusal", "tracking_number"
            )
        ),
        "stock": sorted(
            Stock.objects.filter(sku__in=skus).values_list("sku", "on_hand", "reserved")
        ),
        "availability": sorted(
            Availability.objects.filter(sku__in=skus).values_list("sku", "available")
        ),
        "reservations": sorted(
            Reservation.objects.filter(**by_order).values_list(
                "order_id", "status", "tracking_number"
            )
        ),
        "reserved lines": sorted(
            ReservationLine.objects.filter(reservation__order_id__in=orders).values_list(
                "reservation__order_id", "sku", "quantity"
            )
        ),
        "notifications": sorted(
            Notification.objects.filter(**by_order).values_list("order_id", "kind", "channel")
        ),
        "emails and texts": [SentEmail.objects.count(), SentText.objects.count()],
        "sales": sorted(
            DailyProductSales.objects.filter(sku__in=skus).values_list(
                "day", "sku", "orders", "units", "revenue", "cancelled_orders", "cancelled_units"
            )
        ),
        "sale records": sorted(
            SaleRecord.objects.filter(**by_order).values_list("order_id", "day", "cancelled")
        ),
        "points": sorted(
            Award.objects.filter(**by_order).values_list(
                "order_id", "email", "points", "placed_at", "cancelled"
            )
        ),
        "messages sent": sorted(OutboxMessage.objects.values_list("type", "key")),
    }


def changes(before: dict[str, list], after: dict[str, list]) -> dict[str, dict]:
    """What differs, per effect: the rows that appeared and the rows that went."""
    return {
        name: {
            "new": list((Counter(after[name]) - Counter(rows)).elements()),
            "gone": list((Counter(rows) - Counter(after[name])).elements()),
        }
        for name, rows in before.items()
        if after[name] != rows
    }


def cancelled_too_late(live_server, wait_until, sku: str) -> uuid.UUID:
    """The customer cancels, and the parcel leaves before the warehouse hears of it: the
    warehouse refuses the CancelDispatch (DispatchCancellationRefused) and the shop tells
    the customer (OrderCancellationRefused).

    Made certain rather than raced: the parcel is shipped in a transaction that holds the
    reservation's row until the shop has handled the CancelOrder, so the warehouse's
    CancelDispatch waits for the row and then finds the parcel gone.
    """
    order_id = buy(live_server, sku, 1)
    wait_until(
        lambda: Reservation.objects.filter(order_id=order_id, status="packing").exists(),
        what="the parcel to be packing",
    )
    order_cancel_request(order=Order.objects.get(id=order_id))
    with transaction.atomic():
        dispatch_ship(order_id=order_id)
        wait_until(
            lambda: Order.objects.filter(id=order_id, status="cancelling").exists(),
            what="the shop to ask the warehouse to stop the parcel",
        )
    return order_id


def test_replaying_every_event_topic_into_a_group_without_its_inbox_repeats_no_effect(
    live_server, wait_until
):
    started = timezone.now()
    skus = [f"IDM-{uuid.uuid4().hex[:6].upper()}" for _ in range(2)]
    product(skus[0], price="10.00", stock=10)
    product(skus[1], price="2.50", stock=1)
    dispatched = buy(live_server, skus[0], 2)
    short = buy(live_server, skus[1], 2)
    rejected = buy(live_server, skus[0], 1, address="PO Box 42, Springfield")
    refused = cancelled_too_late(live_server, wait_until, skus[0])
    orders = [dispatched, short, rejected, refused]
    wait_until(lambda: all(settled(o) for o in orders), what="the orders to settle")
    wait_until(quiet, what="every group to handle everything", timeout=90)
    before = effects(orders, skus)
    assert dict(Order.objects.filter(id__in=orders).values_list("id", "status")) == {
        dispatched: "dispatched",
        short: "cancelled",
        rejected: "cancelled",
        refused: "dispatched",
    }
    assert ("shop.OrderCancellationRefused", str(refused)) in before["messages sent"]
    assert ("warehouse.DispatchCancellationRefused", str(refused)) in before["messages sent"]

    for name in GROUPS:
        InboxEntry.objects.filter(group=name).delete()
        events = [t for t in group(name).subscribed_topics() if t not in command_topics()]
        # From the start of every event topic; `since` leaves out the records of earlier
        # tests in this session, whose orders the database no longer holds.
        report = replay.run(replay.plan(group_name=name, topics=events, since=started))
        wait_until(quiet, what=f"the replay into {name} to settle", timeout=90)

        assert report.count("handled") > 0, (name, report.outcomes)
        assert changes(before, effects(orders, skus)) == {}, name
