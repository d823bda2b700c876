"""Packing is done: the parcel leaves with a tracking number, once, and its stock with it."""

import re
import uuid

import pytest

from tests.factories import product
from tests.warehouse.parcels import outbox_mark, packing, reserved, row, sent_since, shelf
from warehouse.models import Reservation
from warehouse.services import CARRIER, dispatch_cancel, dispatch_ship

pytestmark = pytest.mark.django_db


def test_the_parcel_leaves_with_a_tracking_number_and_its_stock_leaves_the_shelf():
    product("MUG-001", stock=5)
    product("KTL-002", stock=3)
    parcel, asked = packing(("MUG-001", 2), ("KTL-002", 1))
    mark = outbox_mark()

    dispatch_ship(order_id=parcel.order_id)

    reservation = parcel.reservation()
    assert (reservation.status, reservation.carrier) == (Reservation.Status.DISPATCHED, CARRIER)
    assert re.fullmatch(r"PP\d{10}", reservation.tracking_number)
    assert shelf() == {"KTL-002": (2, 0), "MUG-001": (3, 0)}
    # What can be sold is unchanged (it was reserved already): no StockLevelChanged.
    [dispatched] = sent_since(mark)
    assert (dispatched.type, dispatched.key) == ("warehouse.OrderDispatched", str(parcel.order_id))
    assert dispatched.payload == {
        "order_id": str(parcel.order_id),
        "carrier": "ParcelPost",
        "tracking_number": reservation.tracking_number,
    }
    # It answers the DispatchOrder, though a Celery task sends it.
    assert (dispatched.correlation_id, dispatched.causation_id) == (
        parcel.correlation_id,
        asked.message_id,
    )


def test_a_parcel_leaves_once():
    product("MUG-001", stock=5)
    parcel, _ = packing(("MUG-001", 2))
    dispatch_ship(order_id=parcel.order_id)
    after_first = row(parcel)

    # The ship task and the scheduler's sweep for lost tasks both come for it.
    dispatch_ship(order_id=parcel.order_id)

    assert row(parcel) == after_first  # the same tracking number
    assert shelf() == {"MUG-001": (3, 0)}
    assert [m.type for m in sent_since(0) if m.type == "warehouse.OrderDispatched"] == [
        "warehouse.OrderDispatched"
    ]


def test_a_parcel_whose_dispatch_was_cancelled_does_not_leave_when_its_task_comes():
    product("MUG-001", stock=5)
    parcel, _ = packing(("MUG-001", 2))
    dispatch_cancel(
        order_id=parcel.order_id,
        reason="at your request",
        caused_by=parcel.about(parcel.cancel_dispatch()),
    )
    before = row(parcel)
    mark = outbox_mark()

    dispatch_ship(order_id=parcel.order_id)

    assert row(parcel) == before
    assert parcel.reservation().status == Reservation.Status.RESERVED
    assert shelf() == {"MUG-001": (5, 2)}  # still held, until OrderCancelled releases it
    assert sent_since(mark) == []


def test_a_reservation_not_being_packed_does_not_leave():
    product("MUG-001", stock=5)
    parcel = reserved(("MUG-001", 2))  # DispatchOrder has not come
    before = row(parcel)
    mark = outbox_mark()

    assert dispatch_ship(order_id=parcel.order_id).status == Reservation.Status.RESERVED
    assert dispatch_ship(order_id=uuid.uuid4()) is None

    assert row(parcel) == before
    assert shelf() == {"MUG-001": (5, 2)}
    assert sent_since(mark) == []
