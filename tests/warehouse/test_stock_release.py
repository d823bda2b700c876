"""Releasing a cancelled order's stock, against a real PostgreSQL."""

import uuid

import pytest

from messaging.models import OutboxMessage
from tests.factories import product
from warehouse.models import Reservation, Stock
from warehouse.services import stock_release, stock_reserve

pytestmark = pytest.mark.django_db


class Cause:
    message_id = uuid.uuid4()
    correlation_id = uuid.uuid4()


def test_a_release_gives_the_reservation_back_once():
    product("MUG-001", stock=5)
    order_id = uuid.uuid4()
    stock_reserve(order_id=order_id, lines=[("MUG-001", 2)], caused_by=Cause())

    stock_release(order_id=order_id, caused_by=Cause())
    stock_release(order_id=order_id, caused_by=Cause())

    assert Stock.objects.get(sku="MUG-001").reserved == 0
    assert OutboxMessage.objects.filter(type="warehouse.StockReleased").count() == 1


def test_a_cancellation_met_before_its_placement_keeps_the_stock_on_the_shelf():
    """The placement was dead-lettered and skipped, or a replay began after it: when it
    comes at last, the order is already cancelled, so nothing may be held for it."""
    product("MUG-001", stock=5)
    order_id = uuid.uuid4()

    stock_release(order_id=order_id, caused_by=Cause())
    stock_reserve(order_id=order_id, lines=[("MUG-001", 2)], caused_by=Cause())

    assert Stock.objects.get(sku="MUG-001").reserved == 0
    assert Reservation.objects.get(order_id=order_id).status == Reservation.Status.RELEASED
    assert (
        not OutboxMessage.objects.filter(type__startswith="warehouse.Stock")
        .exclude(type="warehouse.StockLevelChanged")
        .exists()
    )


def test_release_returns_exactly_what_was_reserved_once():
    product("MUG-001", stock=5)
    order_id = uuid.uuid4()
    stock_reserve(order_id=order_id, lines=[("MUG-001", 4)], caused_by=Cause())

    stock_release(order_id=order_id, caused_by=Cause())
    stock_release(order_id=order_id, caused_by=Cause())

    assert Stock.objects.get(sku="MUG-001").reserved == 0
    assert Reservation.objects.get().status == Reservation.Status.RELEASED
    assert OutboxMessage.objects.filter(type="warehouse.StockReleased").count() == 1
