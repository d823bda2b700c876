"""The warehouse on CustomerErased: its reservation forgets who the parcel went to and
where, and an old DispatchOrder read again brings nobody back."""

import pytest

from messaging import testing
from messaging.contracts import ERASED
from shop.contracts import CustomerErased
from tests.factories import CUSTOMER, order_placed, product
from warehouse.contracts import DispatchOrder, DispatchRejected
from warehouse.models import ErasedOrder, Reservation

pytestmark = pytest.mark.django_db


def dispatch(order_id) -> DispatchOrder:
    return DispatchOrder(order_id=order_id, recipient=CUSTOMER.name, address=CUSTOMER.address)


def test_a_reservation_loses_its_recipient_and_address_and_keeps_the_rest(celery_tasks):
    product("MUG-001", stock=5)
    placed = order_placed(("MUG-001", 2))
    testing.deliver(placed, to="warehouse")
    testing.deliver(dispatch(placed.order_id), to="warehouse")

    handled = testing.deliver(CustomerErased(order_id=placed.order_id), to="warehouse")

    assert handled.outcome == "handled" and handled.sent == []
    reservation = Reservation.objects.get(order_id=placed.order_id)
    assert (reservation.recipient, reservation.address) == (ERASED, ERASED)
    assert reservation.status == Reservation.Status.PACKING
    assert [(ln.sku, ln.quantity) for ln in reservation.lines.all()] == [("MUG-001", 2)]
    assert ErasedOrder.objects.filter(order_id=placed.order_id).exists()


def test_an_old_dispatch_order_read_again_stores_nobody(celery_tasks):
    """A replay of warehouse.commands after the erasure: the record still names them."""
    product("MUG-001", stock=5)
    placed = order_placed(("MUG-001", 1))
    testing.deliver(CustomerErased(order_id=placed.order_id), to="warehouse")
    testing.deliver(placed, to="warehouse")

    testing.deliver(dispatch(placed.order_id), to="warehouse")

    reservation = Reservation.objects.get(order_id=placed.order_id)
    assert CUSTOMER.name not in reservation.recipient
    assert CUSTOMER.address not in reservation.address


def test_an_erasure_before_anything_was_reserved_is_remembered():
    placed = order_placed(("MUG-001", 1))

    testing.deliver(CustomerErased(order_id=placed.order_id), to="warehouse")
    handled = testing.deliver(dispatch(placed.order_id), to="warehouse")

    assert handled.sent_of(DispatchRejected)  # nothing reserved: refused as before
    assert not Reservation.objects.filter(order_id=placed.order_id).exists()
