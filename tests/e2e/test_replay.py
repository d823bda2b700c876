"""Replay against the real broker: rebuilding a projection, recovering a group, resuming."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import replay
from messaging.models import ReplayCheckpoint
from notifications.models import SentEmail, SentText
from sales.models import DailyProductSales
from shop.models import Availability
from tests.e2e.conversation import buy, handled_by, settled
from tests.factories import product
from warehouse.services import stock_set

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


# The session's topics also hold earlier tests' orders (whose rows are gone): each test
# sells products of its own, and compares the figures of those.
SKUS: list[str] = []


def figures() -> list[tuple]:
    return list(
        DailyProductSales.objects.filter(sku__in=SKUS)
        .order_by("day", "sku")
        .values_list(
            "day", "sku", "orders", "units", "revenue", "cancelled_orders", "cancelled_units"
        )
    )


@pytest.fixture
def some_orders(live_server, wait_until):
    """Three orders on two products since `started`: two dispatched, one cancelled."""
    started = timezone.now()
    SKUS[:] = [f"RPL-{uuid.uuid4().hex[:6].upper()}" for _ in range(2)]
    product(SKUS[0], price="10.00", stock=5)
    product(SKUS[1], price="2.50", stock=1)
    orders = [
        buy(live_server, SKUS[0], 2),
        buy(live_server, SKUS[1], 1),
        buy(live_server, SKUS[1], 1),
    ]
    wait_until(lambda: all(settled(o) for o in orders), what="the orders to settle")
    wait_until(
        lambda: (
            all(("sales", "shop.OrderPlaced") in handled_by(o) for o in orders)
            and sum(r[5] for r in figures()) == 1
        ),
        what="sales to count every order",
    )
    # Their texts only: the session's topics can hold other tests' orders still in flight.
    keys = SentText.objects.filter(idempotency_key__regex="|".join(map(_ref, orders)))
    wait_until(lambda: keys.count() == 8, what="every text")
    return started


def _ref(order_id: uuid.UUID) -> str:
    """What a notification's key says of its order (notifications.delivery.dedup_key)."""
    return rf"\.{str(order_id)[:8].upper()}@"


def test_rebuilding_sales_from_the_topics_gives_identical_figures(some_orders):
    before = figures()
    DailyProductSales.objects.update(units=999)  # the projection has gone wrong

    report = replay.run(replay.plan(projection="sales", rebuild=True))

    assert figures() == before
    assert report.count("handled") >= 4  # these three OrderPlaced, one OrderCancelled, ...
    assert not ReplayCheckpoint.objects.exists()


def test_replaying_the_order_topic_into_notifications_sends_nothing_twice(some_orders):
    emails = SentEmail.objects.count()

    plan = replay.plan(group_name="notifications", topics=["orders"], since=some_orders)
    dry = replay.run(plan, dry_run=True)
    report = replay.run(plan)

    assert dry.count("would handle") == 0 and dry.count("would skip (in inbox)") > 0
    assert report.count("handled") == 0
    assert report.count("duplicate") == dry.count("would skip (in inbox)")
    assert SentEmail.objects.count() == emails


def test_an_interrupted_rebuild_resumes_and_ends_the_same(some_orders):
    before = figures()
    plan = replay.plan(projection="sales", rebuild=True)

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replay.run(plan, progress=interrupt)
    assert ReplayCheckpoint.objects.filter(replay=plan.name).exists()

    report = replay.run(plan)

    assert report.resumed
    assert figures() == before


def test_the_availability_projection_rebuilds_from_stock_levels(live_server, wait_until):
    sku = f"RPL-{uuid.uuid4().hex[:6].upper()}"
    product(sku, stock=0)
    stock_set(sku=sku, on_hand=7)
    wait_until(
        lambda: Availability.objects.filter(sku=sku, available=7).exists(),
        what="the shop to hear the stock level",
    )
    Availability.objects.all().delete()

    replay.run(replay.plan(projection="availability", rebuild=True))

    assert Availability.objects.get(sku=sku).available == 7


def test_command_topics_are_refused_unless_allowed():
    with pytest.raises(replay.ReplayRefused, match="carries commands"):
        replay.plan(group_name="shop")
    with pytest.raises(replay.ReplayRefused, match="projection"):
        replay.plan(group_name="sales", rebuild=True)

    allowed = replay.plan(
        group_name="shop", allow_commands=True, since=timezone.now() - timedelta(hours=1)
    )

    assert "shop.commands" in allowed.topics
