"""The shop's writes: the order's lifecycle, from BUY to dispatched or cancelled.

Every service that changes an order records the matching messages in the outbox in the
same transaction, after locking the order row: one order's messages are then written,
and published, in the order its changes happened.

The services handlers call run in their caller's transaction, without a savepoint of
their own (`atomic(savepoint=False)`): a message's handling already rolls back whole
when it fails (messaging.handling), and a failing service fails it whole. The ones people
call (views, the admin, commands) keep theirs: they refuse with exceptions their callers
catch.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from messaging import outbox
from messaging.contracts import ERASED, ERASED_EMAIL
from messaging.metadata import Metadata
from warehouse.contracts import (
    CancelDispatch,
    DispatchCancellationRefused,
    DispatchCancelled,
    DispatchOrder,
    DispatchRejected,
    OrderDispatched,
    Shortage,
    StockReserved,
    StockUnavailable,
)

from . import lifecycle, selectors
from .contracts import (
    ERASED_PHONE,
    CancelOrder,
    Customer,
    CustomerErased,
    Money,
    OrderCancellationRefused,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderRejected,
    PlaceOrder,
    RequestedLine,
)
from .models import Availability, ErasedOrder, IdempotencyKey, Order, Product
from .models import OrderLine as OrderLineRow

logger = logging.getLogger(__name__)


class OrderNotCancellable(Exception):
    """The order is past the point where it can be cancelled (the message says why)."""


@dataclass(frozen=True)
class OrderRequest:
    order_id: uuid.UUID
    correlation_id: uuid.UUID


def order_request(
    *, customer: Customer, lines: list[RequestedLine], account_id: int | None = None
) -> OrderRequest:
    """BUY: ask the shop, through Kafka, to place an order. Starts a conversation.

    The PlaceOrder contract has the last word on the lines (e.g. one line per product): it
    raises pydantic's ValidationError, and nothing is written. The command is all it
    writes: one INSERT, a transaction by itself (outbox.send's `alone`).
    """
    placed = OrderRequest(order_id=uuid.uuid4(), correlation_id=uuid.uuid4())
    _send_place_order(placed, customer=customer, lines=lines, account_id=account_id, alone=True)
    return placed


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was already used for a different request."""


@transaction.atomic
def order_request_once(
    *, account_id: int, idempotency_key: str, customer: Customer, lines: list[RequestedLine]
) -> tuple[OrderRequest, bool]:
    """order_request at most once per (account, key): a retry gets the first request back.

    Returns the request and whether it is new. The key is claimed first, in the same
    transaction as the PlaceOrder command: a concurrent retry waits on the unique index,
    then finds the claim and sends nothing.
    """
    fingerprint = hashlib.sha256(
        json.dumps(
            [customer.model_dump(), [ln.model_dump() for ln in lines]], sort_keys=True
        ).encode()
    ).hexdigest()
    placed = OrderRequest(order_id=uuid.uuid4(), correlation_id=uuid.uuid4())
    if not _claim(account_id, idempotency_key, placed, fingerprint):
        first = IdempotencyKey.objects.get(account_id=account_id, key=idempotency_key)
        if first.request_fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for a different order request."
            ) from None
        return OrderRequest(order_id=first.order_id, correlation_id=first.correlation_id), False
    _send_place_order(placed, customer=customer, lines=lines, account_id=account_id)
    return placed, True


def _claim(account_id: int, key: str, placed: OrderRequest, fingerprint: str) -> bool:
    """Claim the key for this request; False if a request claimed it first.

    One INSERT ... ON CONFLICT DO NOTHING: a concurrent claim waits on the unique index
    until the first commits, then inserts nothing. (An INSERT in a savepoint, rolled back
    to on the IntegrityError, did the same in three round trips.)
    """
    table, quote = IdempotencyKey._meta.db_table, connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(table)} (account_id, {quote('key')}, order_id, "
            "correlation_id, request_fingerprint, created_at) VALUES (%s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT (account_id, {quote('key')}) DO NOTHING",
            [
                account_id,
                key,
                placed.order_id,
                placed.correlation_id,
                fingerprint,
                timezone.now(),
            ],
        )
        return cursor.rowcount == 1


def _send_place_order(
    placed: OrderRequest,
    *,
    customer: Customer,
    lines: list[RequestedLine],
    account_id: int | None,
    alone: bool = False,
) -> None:
    command = PlaceOrder(
        order_id=placed.order_id, customer=customer, lines=tuple(lines), account_id=account_id
    )
    outbox.send(command, correlation_id=placed.correlation_id, alone=alone)


@transaction.atomic
def order_cancel_request(*, order: Order, reason: str = "") -> None:
    """The customer's Cancel: refused at once when it is plainly too late, else sent."""
    if not order.cancellable:
        raise OrderNotCancellable(why_not_cancellable(order))
    command = CancelOrder(order_id=order.id, **({"reason": reason} if reason else {}))
    outbox.send(command, correlation_id=order.correlation_id)


def why_not_cancellable(order: Order) -> str:
    """What the customer is told when a cancellation is refused for the order's status."""
    return {
        Order.Status.DISPATCHED: "This order has already been dispatched.",
        Order.Status.CANCELLED: "This order is already cancelled.",
        Order.Status.CANCELLING: "This order is already being cancelled.",
    }.get(order.status, f"This order cannot be cancelled while {order.get_status_display()}.")


@transaction.atomic(savepoint=False)
def order_place(*, command: PlaceOrder, caused_by: Metadata) -> Order | None:
    """Create the order and announce it, or reject the request if a product is gone."""
    existing = Order.objects.filter(id=command.order_id).first()
    if existing is not None:
        return existing
    if ErasedOrder.objects.filter(order_id=command.order_id).exists():
        # A refused request whose customer was erased, read again (a replay): its person
        # must not come back as an order, and it was answered long ago.
        return None
    skus = [line.sku for line in command.lines]
    products = Product.objects.filter(sku__in=skus, active=True).in_bulk(field_name="sku")
    missing = sorted(set(skus) - set(products))
    if missing:
        reason = f"No longer for sale: {', '.join(missing)}"
        outbox.send(OrderRejected(order_id=command.order_id, reason=reason), caused_by=caused_by)
        return None

    currency = settings.SHOP_CURRENCY
    lines = [
        OrderLine(
            sku=line.sku,
            name=products[line.sku].name,
            quantity=line.quantity,
            unit_price=Money(amount=products[line.sku].price, currency=currency),
        )
        for line in command.lines
    ]
    customer = command.customer
    order = Order.objects.create(
        id=command.order_id,
        correlation_id=caused_by.correlation_id,
        account_id=command.account_id,
        customer_name=customer.name,
        email=customer.email,
        phone=customer.phone,
        address=customer.address,
        total=sum(line.subtotal for line in lines),
        currency=currency,
        placed_at=timezone.now(),
    )
    OrderLineRow.objects.bulk_create(
        OrderLineRow(
            order=order,
            sku=line.sku,
            name=line.name,
            unit_price=line.unit_price.amount,
            quantity=line.quantity,
        )
        for line in lines
    )
    outbox.send(
        OrderPlaced(
            order_id=order.id,
            customer=customer,
            lines=tuple(lines),
            total=Money(amount=order.total, currency=currency),
            placed_at=order.placed_at,
        ),
        caused_by=caused_by,
    )
    return order


def _locked(order_id: uuid.UUID) -> Order:
    return Order.objects.select_for_update().get(id=order_id)


@transaction.atomic(savepoint=False)
def order_confirm(*, order_id: uuid.UUID, caused_by: Metadata) -> Order:
    """StockReserved: confirm the order and ask the warehouse to dispatch it."""
    order = _locked(order_id)
    if not lifecycle.advance(order, StockReserved, caused_by=caused_by):
        return order  # cancelled meanwhile: the warehouse releases on OrderCancelled
    outbox.send(OrderConfirmed(order_id=order.id), caused_by=caused_by)
    outbox.send(
        DispatchOrder(order_id=order.id, recipient=order.customer_name, address=order.address),
        caused_by=caused_by,
    )
    return order


def _cancel(
    order: Order, trigger: lifecycle.Trigger, *, reason: str, caused_by: Metadata, **fields
) -> bool:
    """Cancel the locked order for `reason` (setting `fields` too) and announce it, if the
    lifecycle allows."""
    if not lifecycle.advance(order, trigger, caused_by=caused_by, reason=reason, **fields):
        return False
    # The compensating event other apps follow: the stock returns, the sale is reversed.
    outbox.send(OrderCancelled(order_id=order.id, reason=reason), caused_by=caused_by)
    return True


@transaction.atomic(savepoint=False)
def order_cancel_for_shortage(
    *, order_id: uuid.UUID, shortages: Iterable[Shortage], caused_by: Metadata
) -> Order:
    """StockUnavailable: cancel, naming each short product as the customer saw it."""
    order = _locked(order_id)
    names = dict(order.lines.values_list("sku", "name"))
    short = ", ".join(
        f"{names.get(s.sku, s.sku)} ({s.available} left, {s.requested} wanted)" for s in shortages
    )
    _cancel(order, StockUnavailable, reason=f"Out of stock: {short}", caused_by=caused_by)
    return order


@transaction.atomic(savepoint=False)
def order_cancel_for_rejected_dispatch(
    *, order_id: uuid.UUID, reason: str, caused_by: Metadata
) -> Order:
    """DispatchRejected: the warehouse will not ship it, so the order is cancelled."""
    order = _locked(order_id)
    _cancel(order, DispatchRejected, reason=f"Cannot ship: {reason}", caused_by=caused_by)
    return order


@transaction.atomic(savepoint=False)
def order_cancel_for_stopped_dispatch(
    *, order_id: uuid.UUID, reason: str, caused_by: Metadata
) -> Order:
    """DispatchCancelled: the warehouse stopped the parcel the customer asked to cancel."""
    order = _locked(order_id)
    _cancel(
        order, DispatchCancelled, reason=reason, caused_by=caused_by, cancel_dispatch_pending=False
    )
    return order


@transaction.atomic(savepoint=False)
def order_cancel_by_customer(*, command: CancelOrder, caused_by: Metadata) -> Order | None:
    """CancelOrder: at once before dispatch is requested; after, only if the warehouse agrees.

    Refused (too late, already asked, no such order) with OrderCancellationRefused.
    """
    order = Order.objects.select_for_update().filter(id=command.order_id).first()
    if order is None:
        # E.g. its PlaceOrder was rejected: there is nothing to cancel, and nothing to retry.
        _refuse_cancellation(command.order_id, NO_SUCH_ORDER, caused_by)
        return None
    if not lifecycle.advance(order, CancelOrder, caused_by=caused_by, reason=command.reason):
        _refuse_cancellation(order.id, why_not_cancellable(order), caused_by, order=order)
    elif order.status == Order.Status.CANCELLED:
        outbox.send(OrderCancelled(order_id=order.id, reason=command.reason), caused_by=caused_by)
    else:
        # The parcel may be packing: only the warehouse knows whether it can still be stopped.
        outbox.send(CancelDispatch(order_id=order.id, reason=command.reason), caused_by=caused_by)
        order.cancel_dispatch_pending = True
        order.save(update_fields=["cancel_dispatch_pending", "updated_at"])
    return order


@transaction.atomic(savepoint=False)
def order_mark_dispatched(
    *, order_id: uuid.UUID, carrier: str, tracking_number: str, caused_by: Metadata
) -> Order:
    """OrderDispatched: the parcel has left with this tracking number."""
    order = _locked(order_id)
    lifecycle.advance(
        order,
        OrderDispatched,
        caused_by=caused_by,
        carrier=carrier,
        tracking_number=tracking_number,
    )
    return order


@transaction.atomic(savepoint=False)
def order_refuse_cancellation_for_dispatch(
    *, order_id: uuid.UUID, reason: str, caused_by: Metadata
) -> Order:
    """DispatchCancellationRefused: too late, the parcel left (OrderDispatched came first).

    The customer's CancelOrder is refused after all: answered as the shop's own refusals are,
    once. The move leaves the status as it is, so the status cannot tell a refusal read
    again (a replay, after the inbox forgot it) from the first: the pending CancelDispatch
    can.
    """
    order = _locked(order_id)
    allowed = lifecycle.next_status(order.status, DispatchCancellationRefused) is not None
    if allowed and not order.cancel_dispatch_pending:
        return order  # answered before: the customer is told once
    if lifecycle.advance(
        order, DispatchCancellationRefused, caused_by=caused_by, cancel_dispatch_pending=False
    ):
        _refuse_cancellation(order.id, reason, caused_by, order=order)
    return order


NO_SUCH_ORDER = "There is no such order: the shop never placed it."


def _refuse_cancellation(
    order_id: uuid.UUID, reason: str, caused_by: Metadata, *, order: Order | None = None
) -> None:
    """Answer the customer's CancelOrder with a refusal, in its conversation.

    The order keeps the reason for its page and the API: its status, left as it was,
    cannot say that a cancellation was asked for and refused.
    """
    outbox.send(OrderCancellationRefused(order_id=order_id, reason=reason), caused_by=caused_by)
    if order is not None:
        limit = Order._meta.get_field("cancellation_refusal").max_length
        order.cancellation_refusal = lifecycle.truncated(reason, limit)
        order.save(update_fields=["cancellation_refusal", "updated_at"])


def availability_record(*, sku: str, available: int) -> None:
    # One upsert: update_or_create takes a lock, a savepoint and two more round trips.
    Availability.objects.bulk_create(
        [Availability(sku=sku, available=available, updated_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["sku"],
        update_fields=["available", "updated_at"],
    )


def availability_reset() -> None:
    """Forget what the warehouse said about stock, before hearing it all again."""
    Availability.objects.all().delete()


@dataclass(frozen=True)
class CustomerErasure:
    # The orders (and refused requests) whose customer is erased here, each announced
    # with CustomerErased for the other apps to erase their copies.
    erased: list[uuid.UUID]
    # Orders and requests still on their way (not dispatched or cancelled yet): a parcel
    # cannot be sent to an erased address. Erasing again once they settle takes them too.
    in_progress: list[uuid.UUID]


@transaction.atomic
def customer_erase(*, email: str) -> CustomerErasure:
    """Erase a customer's personal data (the right to erasure), found by their email.

    The shop's orders keep their lines, totals and statuses and lose the person: name,
    email, phone, address and the account they were placed from. Each erased order, and
    each refused request naming the email, is announced with CustomerErased (through the
    outbox, in the order's conversation): every app that keeps a copy of that customer
    erases its own, and the platform redacts the messages about it. The order ids are
    remembered (ErasedOrder), so replaying the topics brings nobody back.
    """
    orders = Order.objects.select_for_update().filter(email__iexact=email.strip())
    erased, in_progress = [], []
    for order in orders.order_by("placed_at"):
        if order.status not in Order.SETTLED:
            in_progress.append(order.id)
            continue
        _erase_order(order)
        erased.append(order.id)
    for request in selectors.requests_naming(email=email.strip()):
        if ErasedOrder.objects.filter(order_id=request.order_id).exists():
            continue  # its erasure is on its way through the message log
        if not request.refused:
            in_progress.append(request.order_id)
            continue
        _announce_erasure(request.order_id, request.correlation_id)
        erased.append(request.order_id)
    return CustomerErasure(erased=erased, in_progress=in_progress)


def _erase_order(order: Order) -> None:
    order.customer_name, order.email, order.phone = ERASED, ERASED_EMAIL, ERASED_PHONE
    order.address, order.account = ERASED, None
    # Why it was cancelled may be the customer's own words (OrderCancelled's reason is
    # personal); the row cannot tell them from the shop's, so it keeps neither.
    if order.status_reason:
        order.status_reason = ERASED
    order.save(
        update_fields=[
            "customer_name",
            "email",
            "phone",
            "address",
            "account",
            "status_reason",
            "updated_at",
        ]
    )
    # A hash of the request, the customer's details among it: nothing left to compare a
    # retried POST with, which is then refused as a different request.
    IdempotencyKey.objects.filter(order_id=order.id).update(request_fingerprint="")
    _announce_erasure(order.id, order.correlation_id)


def _announce_erasure(order_id: uuid.UUID, correlation_id: uuid.UUID) -> None:
    ErasedOrder.objects.get_or_create(order_id=order_id)
    outbox.send(CustomerErased(order_id=order_id), correlation_id=correlation_id)
    logger.info("order %s: customer erased", order_id)
