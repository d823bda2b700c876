"""The shop's reads for the storefront and the REST API."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import OuterRef, Q, QuerySet, Subquery

from messagelog.models import MessageRecord
from messagelog.search import customer_correlations
from messagelog.selectors import conversation_timeline
from messaging.contracts import Message
from messaging.models import OutboxMessage

from .contracts import (
    CancelOrder,
    OrderCancellationRefused,
    OrderCancelled,
    OrderRejected,
    PlaceOrder,
)
from .models import Availability, Category, Order, Product


def products_for_sale(*, query: str = "", category: str = "") -> QuerySet[Product]:
    products = Product.objects.filter(active=True).select_related("category")
    if query:
        products = products.filter(
            Q(name__icontains=query) | Q(description__icontains=query) | Q(sku__iexact=query)
        )
    if category:
        products = products.filter(category__slug=category)
    return products


def categories() -> QuerySet[Category]:
    return Category.objects.filter(products__active=True).distinct()


def available(sku: str) -> int | None:
    """Units for sale as the warehouse last announced; None before it has said anything."""
    return Availability.objects.filter(sku=sku).values_list("available", flat=True).first()


def availability_by_sku(skus) -> dict[str, int]:
    return dict(Availability.objects.filter(sku__in=list(skus)).values_list("sku", "available"))


def order_with_lines(order_id) -> Order | None:
    return Order.objects.prefetch_related("lines").filter(id=order_id).first()


# Every CancelOrder is answered by one of these: the order is cancelled, or it is not.
CANCELLATION_ANSWERS = {OrderCancelled.type_name(), OrderCancellationRefused.type_name()}


def cancellation_unanswered(timeline: list[dict]) -> bool:
    """Whether the conversation has a CancelOrder the shop has not answered yet."""
    asked = sum(entry["type"] == CancelOrder.type_name() for entry in timeline)
    answered = sum(entry["type"] in CANCELLATION_ANSWERS for entry in timeline)
    return asked > answered


# The REST API's reads (shop/api.py).


def catalog_with_availability(*, query: str = "", category: str = "") -> QuerySet[Product]:
    """products_for_sale, each with `available` from the projection (None: not heard yet)."""
    return _with_availability(products_for_sale(query=query, category=category))


def product_for_sale(*, sku: str) -> Product | None:
    return catalog_with_availability().filter(sku=sku).first()


def _with_availability(products: QuerySet[Product]) -> QuerySet[Product]:
    # A subquery rather than a second query per page: the list stays one paginated query.
    stock = Availability.objects.filter(sku=OuterRef("sku")).values("available")[:1]
    return products.annotate(available=Subquery(stock))


def skus_for_sale(skus) -> set[str]:
    """Those of `skus` that can be ordered now: known to the catalog and active."""
    return set(
        Product.objects.filter(sku__in=list(skus), active=True).values_list("sku", flat=True)
    )


def orders_of_account(*, account_id: int) -> QuerySet[Order]:
    """The account's orders, newest first (the model's ordering)."""
    return Order.objects.filter(account_id=account_id)


def order_of_account(*, order_id, account_id: int) -> Order | None:
    return Order.objects.filter(id=order_id, account_id=account_id).first()


@dataclass(frozen=True)
class OrderDetail:
    """An order as its customer sees it: a row of ours, or a request the shop still handles.

    `status` is an `Order.Status`, or REQUESTED / REJECTED while no order row exists.
    """

    id: UUID
    correlation_id: UUID
    status: str
    status_reason: str
    cancellation_refusal: str
    lines: list[dict]  # sku, name, quantity, unit_price (name and price unknown until placed)
    total: Decimal | None
    currency: str | None  # of the total and the prices (ISO 4217); None until placed
    carrier: str
    tracking_number: str
    placed_at: datetime | None
    timeline: list[dict]


REQUESTED = "requested"
REJECTED = "rejected"


def order_detail_for_account(*, order_id, account_id: int) -> OrderDetail | None:
    """The account's order with its conversation; None when it is not theirs (or unknown)."""
    order = order_with_lines(order_id)
    if order is not None:
        return _detail_of_order(order) if order.account_id == account_id else None
    return order_requested_by_account(order_id=order_id, account_id=account_id)


def _detail_of_order(order: Order) -> OrderDetail:
    return OrderDetail(
        id=order.id,
        correlation_id=order.correlation_id,
        status=order.status,
        status_reason=order.status_reason,
        cancellation_refusal=order.cancellation_refusal,
        lines=[
            {"sku": ln.sku, "name": ln.name, "quantity": ln.quantity, "unit_price": ln.unit_price}
            for ln in order.lines.all()
        ],
        total=order.total,
        currency=order.currency,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        placed_at=order.placed_at,
        timeline=conversation_timeline(order.correlation_id),
    )


def order_requested_by_account(*, order_id, account_id: int) -> OrderDetail | None:
    """An order the account asked for that the shop has not created: not yet, or never.

    Between the 202 of POST /api/orders/ and the shop's consumer handling PlaceOrder, the
    order exists only as that command: in the outbox (written with the 202) or, where the
    outbox was pruned, in the message log. Its payload names the account that sent it, so
    nobody else can look it up. If the shop refused it, OrderRejected says why.
    """
    command = _shop_message(PlaceOrder, order_id, payload__account_id=account_id)
    if command is None:
        return None
    rejected = _shop_message(OrderRejected, order_id)
    return OrderDetail(
        id=UUID(str(order_id)),
        correlation_id=command.correlation_id,
        status=REQUESTED if rejected is None else REJECTED,
        status_reason="" if rejected is None else rejected.payload["reason"],
        cancellation_refusal="",  # a request is never cancelled: the API refuses to send one
        lines=[
            {"sku": ln["sku"], "name": None, "quantity": ln["quantity"], "unit_price": None}
            for ln in command.payload["lines"]
        ],
        total=None,
        currency=None,
        carrier="",
        tracking_number="",
        placed_at=None,
        timeline=conversation_timeline(command.correlation_id),
    )


def _shop_message(contract: type[Message], order_id, **payload_filter):
    """The first message of this type about this order, from the outbox or the message log."""
    for model in (OutboxMessage, MessageRecord):
        found = (
            model.objects.filter(type=contract.type_name(), key=str(order_id), **payload_filter)
            .only("correlation_id", "payload")
            .first()
        )
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class Request:
    """A PlaceOrder as the message log recorded it."""

    order_id: UUID
    correlation_id: UUID
    refused: bool  # the shop answered it with OrderRejected: no order exists


def requests_naming(*, email: str) -> list[Request]:
    """The PlaceOrder requests that named this customer email and never became an order:
    refused, or not handled yet. Read from the message log, whose index finds an email."""
    keys = {
        key: correlation_id
        for key, correlation_id in customer_correlations(email)
        .filter(type=PlaceOrder.type_name())
        .values_list("key", "correlation_id")
        if _is_uuid(key)  # any producer can write any key: only an order id names an order
    }
    placed = {str(i) for i in Order.objects.filter(id__in=keys).values_list("id", flat=True)}
    refused = set(
        MessageRecord.objects.filter(type=OrderRejected.type_name(), key__in=keys).values_list(
            "key", flat=True
        )
    )
    return [
        Request(UUID(key), correlation_id, key in refused)
        for key, correlation_id in keys.items()
        if key not in placed
    ]


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
