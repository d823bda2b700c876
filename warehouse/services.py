"""The warehouse's writes: reserving stock all-or-nothing, packing, shipping, releasing.

Every change of a SKU's availability also publishes StockLevelChanged (keyed by SKU), so
other apps can keep their own view of what can be sold without reading these tables.

The services handlers call run in their caller's transaction, without a savepoint of
their own (`atomic(savepoint=False)`): a message's handling already rolls back whole
when it fails (messaging.handling), and a failing service fails it whole. The ones people
call (views, the admin, commands) keep theirs: they refuse with exceptions their callers
catch.
"""

import logging
import re
import uuid
from collections import Counter
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messaging import outbox, rows
from messaging.contracts import ERASED
from messaging.metadata import Cause, CauseRef

from .contracts import (
    DispatchCancellationRefused,
    DispatchCancelled,
    DispatchRejected,
    OrderDispatched,
    ReservedLine,
    Shortage,
    StockLevelChanged,
    StockReleased,
    StockReserved,
    StockUnavailable,
)
from .models import ErasedOrder, Reservation, ReservationLine, Stock

logger = logging.getLogger(__name__)

CARRIER = "ParcelPost"
# Our carrier does not deliver to PO boxes: the warehouse's reason to refuse a dispatch.
UNDELIVERABLE = re.compile(r"\bP\.?\s*O\.?\s*Box\b", re.IGNORECASE)


def _locked_stock(skus) -> dict[str, Stock]:
    # Locking in SKU order means two orders sharing SKUs can never deadlock.
    return {
        s.sku: s for s in Stock.objects.select_for_update().filter(sku__in=skus).order_by("sku")
    }


def _announce_levels(stock: list[Stock], caused_by: Cause | None) -> None:
    for item in sorted(stock, key=lambda s: s.sku):
        outbox.send(StockLevelChanged(sku=item.sku, available=item.available), caused_by=caused_by)


@transaction.atomic(savepoint=False)
def stock_reserve(
    *, order_id: uuid.UUID, lines: list[tuple[str, int]], caused_by: Cause
) -> Reservation | None:
    """Reserve every line of an order, or none of them and say which are short."""
    if Reservation.objects.filter(order_id=order_id).exists():
        # Decided already (a fact is not decided twice), or cancelled before it came.
        return None
    wanted = Counter()
    for sku, quantity in lines:
        wanted[sku] += quantity
    stock = _locked_stock(wanted)
    shortages = [
        Shortage(sku=sku, requested=qty, available=stock[sku].available if sku in stock else 0)
        for sku, qty in sorted(wanted.items())
        if sku not in stock or stock[sku].available < qty
    ]
    if shortages:
        outbox.send(
            StockUnavailable(order_id=order_id, shortages=tuple(shortages)), caused_by=caused_by
        )
        return None

    for sku, quantity in wanted.items():
        stock[sku].reserved += quantity
    rows.update(Stock, list(stock.values()), ["reserved"])
    reservation = Reservation.objects.create(order_id=order_id)
    ReservationLine.objects.bulk_create(
        ReservationLine(reservation=reservation, sku=sku, quantity=qty)
        for sku, qty in sorted(wanted.items())
    )
    outbox.send(
        StockReserved(
            order_id=order_id,
            lines=tuple(ReservedLine(sku=sku, quantity=q) for sku, q in sorted(wanted.items())),
        ),
        caused_by=caused_by,
    )
    _announce_levels(list(stock.values()), caused_by)
    return reservation


@transaction.atomic(savepoint=False)
def stock_release(*, order_id: uuid.UUID, caused_by: Cause) -> Reservation | None:
    """Give a cancelled order's reservation back to the shelf (once; never after shipping).

    A cancellation met before its order's placement (the placement was dead-lettered and
    skipped, or a replay began after it) is remembered as a released reservation with no
    lines, so that the placement, if it comes later, reserves nothing.
    """
    reservation, created = Reservation.objects.select_for_update().get_or_create(
        order_id=order_id, defaults={"status": Reservation.Status.RELEASED}
    )
    if created:
        # Short of stock (nothing was reserved), or cancelled before it was placed here.
        logger.info("warehouse: nothing reserved for cancelled order %s; remembered", order_id)
        return reservation
    if reservation.status not in (
        Reservation.Status.RESERVED,
        Reservation.Status.PACKING,
    ):
        return reservation
    lines = list(reservation.lines.order_by("sku"))
    stock = _locked_stock([line.sku for line in lines])
    for line in lines:
        stock[line.sku].reserved -= line.quantity
    rows.update(Stock, list(stock.values()), ["reserved"])
    reservation.status = Reservation.Status.RELEASED
    reservation.save(update_fields=["status", "updated_at"])
    outbox.send(
        StockReleased(
            order_id=order_id,
            lines=tuple(ReservedLine(sku=ln.sku, quantity=ln.quantity) for ln in lines),
        ),
        caused_by=caused_by,
    )
    _announce_levels(list(stock.values()), caused_by)
    return reservation


@transaction.atomic(savepoint=False)
def dispatch_request(
    *, order_id: uuid.UUID, recipient: str, address: str, caused_by: Cause
) -> Reservation | None:
    """DispatchOrder: start packing, or refuse at once with the reason."""
    if ErasedOrder.objects.filter(order_id=order_id).exists():
        # An old DispatchOrder read again after its customer was erased: nobody comes back.
        recipient = address = ERASED
    reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
    refusal = None
    if reservation is None or reservation.status == Reservation.Status.RELEASED:
        refusal = "Nothing is reserved for this order (it was cancelled)"
    elif UNDELIVERABLE.search(address):
        refusal = "Our carrier cannot deliver to a PO box"
    if refusal:
        outbox.send(DispatchRejected(order_id=order_id, reason=refusal), caused_by=caused_by)
        return None
    if reservation.status != Reservation.Status.RESERVED:
        return reservation  # already packing or shipped: the command was handled before
    reservation.status = Reservation.Status.PACKING
    reservation.recipient = recipient
    reservation.address = address
    reservation.ship_after = timezone.now() + timedelta(seconds=settings.WAREHOUSE_PACKING_SECONDS)
    reservation.dispatch_command_id = caused_by.message_id
    reservation.correlation_id = caused_by.correlation_id
    reservation.save()
    # The ship timer (warehouse.tasks.ship), named rather than imported: tasks are the
    # entrypoints that call these services.
    transaction.on_commit(
        lambda: current_app.send_task(
            "warehouse.ship", (str(order_id),), countdown=settings.WAREHOUSE_PACKING_SECONDS
        )
    )
    return reservation


@transaction.atomic(savepoint=False)
def dispatch_ship(*, order_id: uuid.UUID) -> Reservation | None:
    """Packing is done: the parcel leaves with a tracking number (once)."""
    reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
    if reservation is None or reservation.status != Reservation.Status.PACKING:
        return reservation  # shipped already, or the dispatch was cancelled meanwhile
    lines = list(reservation.lines.all())
    stock = _locked_stock([line.sku for line in lines])
    for line in lines:
        stock[line.sku].reserved -= line.quantity
        stock[line.sku].on_hand -= line.quantity
    rows.update(Stock, list(stock.values()), ["reserved", "on_hand"])
    reservation.status = Reservation.Status.DISPATCHED
    reservation.carrier = CARRIER
    reservation.tracking_number = f"PP{uuid.uuid4().int % 10**10:010d}"
    reservation.save()
    outbox.send(
        OrderDispatched(
            order_id=order_id, carrier=CARRIER, tracking_number=reservation.tracking_number
        ),
        caused_by=CauseRef(reservation.dispatch_command_id, reservation.correlation_id),
    )
    return reservation


@transaction.atomic(savepoint=False)
def dispatch_cancel(*, order_id: uuid.UUID, reason: str, caused_by: Cause) -> Reservation | None:
    """CancelDispatch: stop packing, unless the parcel has already left."""
    reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
    if reservation is not None and reservation.status == Reservation.Status.DISPATCHED:
        outbox.send(
            DispatchCancellationRefused(
                order_id=order_id,
                reason=f"Already dispatched with {reservation.carrier}, "
                f"tracking number {reservation.tracking_number}",
            ),
            caused_by=caused_by,
        )
        return reservation
    if reservation is not None and reservation.status == Reservation.Status.PACKING:
        reservation.status = Reservation.Status.RESERVED  # released when OrderCancelled arrives
        reservation.ship_after = None
        reservation.save(update_fields=["status", "ship_after", "updated_at"])
    outbox.send(DispatchCancelled(order_id=order_id, reason=reason), caused_by=caused_by)
    return reservation


@transaction.atomic(savepoint=False)
def customer_erase(*, order_id: uuid.UUID) -> None:
    """CustomerErased: the order's reservation forgets who it went to and where; its
    lines, status and tracking number stay. Remembered, so a replay brings nobody back."""
    ErasedOrder.objects.get_or_create(order_id=order_id)
    Reservation.objects.filter(order_id=order_id).exclude(recipient="", address="").update(
        recipient=ERASED, address=ERASED, updated_at=timezone.now()
    )


def reservations_due() -> list[uuid.UUID]:
    """Orders whose packing is done but whose ship task was lost (a worker or Redis restart)."""
    return list(
        Reservation.objects.filter(
            status=Reservation.Status.PACKING, ship_after__lte=timezone.now() - timedelta(seconds=5)
        ).values_list("order_id", flat=True)[:500]
    )


@transaction.atomic
def stock_set(*, sku: str, on_hand: int) -> Stock:
    """Put `on_hand` units of `sku` on the shelf (seeding and stock-takes), and say so."""
    stock, _ = Stock.objects.select_for_update().get_or_create(sku=sku)
    stock.on_hand = on_hand
    stock.save(update_fields=["on_hand"])
    _announce_levels([stock], caused_by=None)
    return stock
