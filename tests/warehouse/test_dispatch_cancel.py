"""CancelDispatch: the warehouse stops a parcel still being packed, and refuses once it left."""

import pytest

from shop.contracts import OrderCancelled
from tests.factories import CUSTOMER, product
from tests.warehouse.parcels import (
    outbox_mark,
    packing,
    reserved,
    row,
    sent_since,
    shelf,
    shipped,
)
from warehouse.models import Reservation
from warehouse.services import dispatch_cancel, dispatch_request, stock_release

pytestmark = pytest.mark.django_db

REASON = "Ordered twice by mistake"


def cancel(parcel):
    """The warehouse handles the shop's CancelDispatch for the parcel; returns its metadata."""
    asked = parcel.about(parcel.cancel_dispatch(REASON))
    dispatch_cancel(order_id=parcel.order_id, reason=REASON, caused_by=asked)
    return asked


def test_a_parcel_being_packed_is_stopped_and_its_stock_held_until_the_order_is_cancelled():
    product("MUG-001", stock=5)
    parcel, _ = packing(("MUG-001", 2))
    mark = outbox_mark()

    asked = cancel(parcel)

    [cancelled] = sent_since(mark)
    assert (cancelled.type, cancelled.key) == ("warehouse.DispatchCancelled", str(parcel.order_id))
    assert cancelled.payload == {"order_id": str(parcel.order_id), "reason": REASON}
    assert (cancelled.correlation_id, cancelled.causation_id) == (
        parcel.correlation_id,
        asked.message_id,
    )
    reservation = parcel.reservation()
    assert (reservation.status, reservation.ship_after) == (Reservation.Status.RESERVED, None)
    # Released when the shop's OrderCancelled comes, not before.
    assert shelf() == {"MUG-001": (5, 2)}


def test_a_parcel_that_left_is_not_stopped_and_the_refusal_names_carrier_and_tracking_number():
    product("MUG-001", stock=5)
    parcel, _ = shipped(("MUG-001", 2))
    before, on_shelf = row(parcel), shelf()
    mark = outbox_mark()

    asked = cancel(parcel)

    [refused] = sent_since(mark)
    assert (refused.type, refused.key) == (
        "warehouse.DispatchCancellationRefused",
        str(parcel.order_id),
    )
    tracking_number = before["tracking_number"]
    assert refused.payload == {
        "order_id": str(parcel.order_id),
        "reason": f"Already dispatched with ParcelPost, tracking number {tracking_number}",
    }
    assert tracking_number.startswith("PP")
    assert (refused.correlation_id, refused.causation_id) == (
        parcel.correlation_id,
        asked.message_id,
    )
    assert row(parcel) == before
    assert shelf() == on_shelf == {"MUG-001": (3, 0)}


def refused_for_a_po_box():
    parcel = reserved(("MUG-001", 2))
    address = "PO Box 12, London"
    dispatch_request(
        order_id=parcel.order_id,
        recipient=CUSTOMER.name,
        address=address,
        caused_by=parcel.about(parcel.dispatch_order(address)),
    )
    return parcel


def released():
    # The shop cancelled the order for the refusal, and the warehouse gave its stock back.
    parcel = refused_for_a_po_box()
    cancelled = OrderCancelled(order_id=parcel.order_id, reason="Cannot ship: a PO box")
    stock_release(order_id=parcel.order_id, caused_by=parcel.about(cancelled))
    return parcel


@pytest.mark.parametrize(
    ("made", "status"),
    [
        (refused_for_a_po_box, Reservation.Status.RESERVED),
        (released, Reservation.Status.RELEASED),
    ],
    ids=["dispatch-refused", "released"],
)
def test_a_parcel_that_was_never_packed_will_not_leave_so_the_cancel_is_granted(made, status):
    product("MUG-001", stock=5)
    parcel = made()
    before, on_shelf = row(parcel), shelf()
    mark = outbox_mark()

    asked = cancel(parcel)

    [cancelled] = sent_since(mark)
    assert (cancelled.type, cancelled.payload["reason"], cancelled.causation_id) == (
        "warehouse.DispatchCancelled",
        REASON,
        asked.message_id,
    )
    assert row(parcel) == before and before["status"] == status
    assert shelf() == on_shelf
