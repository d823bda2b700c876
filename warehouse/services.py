"""The warehouse's writes: reserving and releasing stock, all lines or none."""

import uuid
from collections import Counter

from django.db import transaction

from messaging import outbox
from messaging.metadata import Metadata

from .contracts import ReservedLine, Shortage, StockReleased, StockReserved, StockUnavailable
from .models import Reservation, ReservationLine, Stock


@transaction.atomic
def stock_reserve(
    *, order_id: uuid.UUID, lines: list[tuple[str, int]], caused_by: Metadata
) -> Reservation | None:
    """Reserve every line of an order, or none of them and say which are short."""
    if Reservation.objects.filter(order_id=order_id).exists():
        return None  # already decided for this order: a fact is not decided twice
    wanted = Counter()
    for sku, quantity in lines:
        wanted[sku] += quantity
    # Locking in SKU order means two orders sharing SKUs can never deadlock.
    stock = {
        s.sku: s for s in Stock.objects.select_for_update().filter(sku__in=wanted).order_by("sku")
    }
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
    Stock.objects.bulk_update(stock.values(), ["reserved"])
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
    return reservation


@transaction.atomic
def stock_release(*, order_id: uuid.UUID, caused_by: Metadata) -> Reservation | None:
    """Give a cancelled order's reservation back to the shelf (once)."""
    reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
    if reservation is None or reservation.status != Reservation.Status.RESERVED:
        return reservation
    lines = list(reservation.lines.order_by("sku"))
    stock = {
        s.sku: s
        for s in Stock.objects.select_for_update()
        .filter(sku__in=[ln.sku for ln in lines])
        .order_by("sku")
    }
    for line in lines:
        stock[line.sku].reserved -= line.quantity
    Stock.objects.bulk_update(stock.values(), ["reserved"])
    reservation.status = Reservation.Status.RELEASED
    reservation.save(update_fields=["status", "updated_at"])
    outbox.send(
        StockReleased(
            order_id=order_id,
            lines=tuple(ReservedLine(sku=ln.sku, quantity=ln.quantity) for ln in lines),
        ),
        caused_by=caused_by,
    )
    return reservation


def stock_set(*, sku: str, on_hand: int) -> Stock:
    """Put `on_hand` units of `sku` on the shelf (seeding and stock-takes)."""
    stock, _ = Stock.objects.update_or_create(sku=sku, defaults={"on_hand": on_hand})
    return stock
