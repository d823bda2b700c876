"""Reserving an order's stock, all or nothing, against a real PostgreSQL."""

import uuid

import pytest

from messaging.metadata import Metadata
from messaging.models import OutboxMessage
from tests.factories import order_placed, product
from warehouse.models import Reservation, Stock
from warehouse.services import stock_reserve

pytestmark = pytest.mark.django_db


def cause():
    return Metadata.for_message(order_placed(("MUG-001", 1)))


def test_every_line_is_reserved_or_none():
    product("MUG-001", stock=5)
    product("KTL-002", stock=1)
    order_id = uuid.uuid4()

    assert (
        stock_reserve(order_id=order_id, lines=[("MUG-001", 2), ("KTL-002", 2)], caused_by=cause())
        is None
    )

    assert list(Stock.objects.values_list("sku", "reserved")) == [("KTL-002", 0), ("MUG-001", 0)]
    short = OutboxMessage.objects.get(type="warehouse.StockUnavailable").payload["shortages"]
    assert short == [{"sku": "KTL-002", "requested": 2, "available": 1}]


def test_a_reservation_holds_stock_and_is_made_once():
    product("MUG-001", stock=5)
    order_id = uuid.uuid4()

    stock_reserve(order_id=order_id, lines=[("MUG-001", 2), ("MUG-001", 1)], caused_by=cause())
    stock_reserve(order_id=order_id, lines=[("MUG-001", 3)], caused_by=cause())

    assert Stock.objects.get(sku="MUG-001").available == 2
    assert Reservation.objects.get().lines.get().quantity == 3
    assert OutboxMessage.objects.filter(type="warehouse.StockReserved").count() == 1


def test_an_unknown_sku_is_short():
    stock_reserve(order_id=uuid.uuid4(), lines=[("GHOST-1", 1)], caused_by=cause())

    assert OutboxMessage.objects.get().payload["shortages"][0]["available"] == 0


def test_an_orders_stock_rows_are_updated_in_one_statement_without_a_case_per_row():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    product("MUG-001", stock=5)
    product("KTL-002", stock=4)
    product("BAG-012", stock=3)

    with CaptureQueriesContext(connection) as queries:
        stock_reserve(
            order_id=uuid.uuid4(), lines=[("MUG-001", 2), ("KTL-002", 1)], caused_by=cause()
        )

    updates = [q["sql"] for q in queries.captured_queries if 'UPDATE "warehouse_stock"' in q["sql"]]
    assert len(updates) == 1 and "CASE" not in updates[0]
    assert dict(Stock.objects.values_list("sku", "reserved")) == {
        "BAG-012": 0,
        "KTL-002": 1,
        "MUG-001": 2,
    }
