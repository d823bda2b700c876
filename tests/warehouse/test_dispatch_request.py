"""DispatchOrder: the warehouse starts packing and ships when it is done, or refuses at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shop.contracts import OrderCancelled
from tests.factories import CUSTOMER, product
from tests.warehouse.parcels import (
    Parcel,
    outbox_mark,
    packing,
    reserved,
    row,
    sent_since,
    shelf,
    shipped,
    short,
)
from warehouse.models import Reservation
from warehouse.services import dispatch_request, stock_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def ship_tasks(celery_tasks) -> list:
    """The ship tasks handed to Celery: (name, args, countdown) each."""
    return celery_tasks


def request(parcel, asked, address=CUSTOMER.address):
    return dispatch_request(
        order_id=parcel.order_id, recipient=CUSTOMER.name, address=address, caused_by=asked
    )


def test_a_reserved_order_is_packed_and_shipped_when_packing_is_done(
    settings, ship_tasks, django_capture_on_commit_callbacks
):
    settings.WAREHOUSE_PACKING_SECONDS = 7
    product("MUG-001", stock=5)
    parcel = reserved(("MUG-001", 2))
    asked = parcel.about(parcel.dispatch_order())
    mark = outbox_mark()
    started = timezone.now()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        request(parcel, asked)
        assert ship_tasks == []  # not before the transaction commits

    assert len(callbacks) == 1
    assert ship_tasks == [("warehouse.ship", (str(parcel.order_id),), 7)]
    reservation = parcel.reservation()
    assert reservation.status == Reservation.Status.PACKING
    assert (reservation.recipient, reservation.address) == (CUSTOMER.name, CUSTOMER.address)
    assert started + timedelta(seconds=7) <= reservation.ship_after
    assert reservation.ship_after <= timezone.now() + timedelta(seconds=7)
    # What the parcel's OrderDispatched will answer, after a Celery task.
    assert (reservation.dispatch_command_id, reservation.correlation_id) == (
        asked.message_id,
        parcel.correlation_id,
    )
    assert sent_since(mark) == []  # OrderDispatched is sent when the parcel leaves
    assert shelf() == {"MUG-001": (5, 2)}


def released() -> Parcel:
    parcel = reserved(("MUG-001", 1))
    cancelled = OrderCancelled(order_id=parcel.order_id, reason="at your request")
    stock_release(order_id=parcel.order_id, caused_by=parcel.about(cancelled))
    return parcel


@pytest.mark.parametrize(
    "made",
    [released, lambda: short(("MUG-001", 2))],
    ids=["released", "never-reserved"],
)
def test_an_order_with_nothing_reserved_is_refused_with_dispatch_rejected(
    made, ship_tasks, django_capture_on_commit_callbacks
):
    product("MUG-001", stock=1)
    parcel = made()
    asked = parcel.about(parcel.dispatch_order())
    before = shelf()
    mark = outbox_mark()

    with django_capture_on_commit_callbacks(execute=True):
        assert request(parcel, asked) is None

    [rejected] = sent_since(mark)
    assert (rejected.type, rejected.key) == ("warehouse.DispatchRejected", str(parcel.order_id))
    assert rejected.payload == {
        "order_id": str(parcel.order_id),
        "reason": "Nothing is reserved for this order (it was cancelled)",
    }
    assert (rejected.correlation_id, rejected.causation_id) == (
        parcel.correlation_id,
        asked.message_id,
    )
    assert ship_tasks == []  # nothing to ship (other on-commit callbacks count metrics)
    assert shelf() == before
    assert (
        not Reservation.objects.filter(order_id=parcel.order_id)
        .exclude(status=Reservation.Status.RELEASED)
        .exists()
    )


@pytest.mark.parametrize(
    "address", ["PO Box 12, London", "P.O. Box 7, Leeds", "Flat 2, p o box 9, York", "POBox 3"]
)
def test_a_po_box_is_refused_and_the_stock_stays_reserved_until_the_order_is_cancelled(
    address, ship_tasks, django_capture_on_commit_callbacks
):
    product("MUG-001", stock=5)
    parcel = reserved(("MUG-001", 2))
    asked = parcel.about(parcel.dispatch_order(address))
    before = row(parcel)
    mark = outbox_mark()

    with django_capture_on_commit_callbacks(execute=True):
        assert request(parcel, asked, address) is None

    [rejected] = sent_since(mark)
    assert (rejected.type, rejected.key) == ("warehouse.DispatchRejected", str(parcel.order_id))
    assert rejected.payload == {
        "order_id": str(parcel.order_id),
        "reason": "Our carrier cannot deliver to a PO box",
    }
    assert (rejected.correlation_id, rejected.causation_id) == (
        parcel.correlation_id,
        asked.message_id,
    )
    assert ship_tasks == []  # nothing to ship (other on-commit callbacks count metrics)
    assert row(parcel) == before  # reserved, not packing: released on OrderCancelled
    assert shelf() == {"MUG-001": (5, 2)}


@pytest.mark.parametrize("address", ["12 Depot Road, Boxford", "3 Hippo Boxwood Lane, Bath"])
def test_po_and_box_inside_other_words_are_not_a_po_box(address, ship_tasks):
    product("MUG-001", stock=5)
    parcel = reserved(("MUG-001", 2))

    request(parcel, parcel.about(parcel.dispatch_order(address)), address)

    assert parcel.reservation().status == Reservation.Status.PACKING


@pytest.mark.parametrize("made", [packing, shipped], ids=["packing", "dispatched"])
def test_a_dispatch_order_for_a_parcel_already_on_its_way_changes_nothing(
    made, ship_tasks, django_capture_on_commit_callbacks
):
    product("MUG-001", stock=5)
    parcel, _ = made(("MUG-001", 2))
    before, on_shelf = row(parcel), shelf()
    mark = outbox_mark()

    with django_capture_on_commit_callbacks(execute=True):
        request(parcel, parcel.about(parcel.dispatch_order()))

    assert row(parcel) == before
    assert shelf() == on_shelf
    assert sent_since(mark) == []
    assert ship_tasks == []  # nothing to ship (other on-commit callbacks count metrics)
