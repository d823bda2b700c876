"""Following benchmark orders through the pipeline: when each is done, and how long it took.

An order is done when its whole conversation has happened and been seen by everyone: the
shop has dispatched it, every email and text was sent, every message it caused was
published and recorded by the audit group, and every consumer group that follows a
message's type has an inbox row for it. Times come from the platform's own tables
(InboxEntry.handled_at, MessageRecord.recorded_at, OutboxMessage.time).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from django.db.models import Max

from messagelog.models import MessageRecord
from messaging.models import DeadLetter, InboxEntry, OutboxMessage
from messaging.registry import groups
from notifications.models import Notification
from shop.models import Order

ORDER_PATH = re.compile(r"/orders/([0-9a-f-]{36})/")


def order_id_of(location: str) -> uuid.UUID:
    match = ORDER_PATH.search(location)
    if match is None:
        raise ValueError(f"not an order's address: {location!r}")
    return uuid.UUID(match.group(1))


def wait_until_handled(
    order_ids: list[uuid.UUID],
    *,
    timeout: float,
    strict: bool = True,
    progress: Callable[[int], None] = lambda done: None,
) -> set[uuid.UUID]:
    """Wait until every order is done; returns the orders lost to dead letters.

    A dead letter never completes its order. `strict` fails at the first one (the quick
    mode); otherwise the wait ends once every order is done or has one, and the caller
    reports them (a full run keeps its figures and says what was lost).
    """
    deadline = time.monotonic() + timeout
    while True:
        lost = dead_lettered(order_ids)
        if lost and strict:
            raise RuntimeError(f"{len(lost)} orders have dead letters: {dead_letter_reasons()}")
        dispatched = Order.objects.filter(id__in=order_ids, status=Order.Status.DISPATCHED)
        progress(dispatched.count())
        # The full check reads every message of the run: only once the cheap one passes.
        if dispatched.count() == len(order_ids):
            missing = {uuid.UUID(o) for o in incomplete(order_ids)}
            if missing <= lost:
                return lost
        if time.monotonic() > deadline:
            missing = incomplete(order_ids)
            raise TimeoutError(f"{len(missing)} of {len(order_ids)} orders not handled: {missing}")
        time.sleep(0.5)


def dead_lettered(order_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    correlations = Order.objects.filter(id__in=order_ids).values("correlation_id")
    dead = DeadLetter.objects.filter(correlation_id__in=correlations).values("correlation_id")
    return set(Order.objects.filter(correlation_id__in=dead).values_list("id", flat=True))


def dead_letter_reasons() -> dict[str, int]:
    """How many dead letters of each (group, type, error), e.g. to explain a lost order."""
    counts: dict[str, int] = {}
    for group, type_, error in DeadLetter.objects.values_list("group", "type", "error"):
        key = f"{group} dead-lettered {type_}: {error}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def incomplete(order_ids: Iterable[uuid.UUID]) -> dict[str, str]:
    """The orders that are not done yet, each with the first reason found."""
    order_ids = list(order_ids)
    reasons: dict[str, str] = {}
    orders = dict(Order.objects.filter(id__in=order_ids).values_list("id", "status"))
    for order_id in order_ids:
        if orders.get(order_id) != Order.Status.DISPATCHED:
            reasons[str(order_id)] = f"status {orders.get(order_id)}"
    pending = Notification.objects.filter(order_id__in=order_ids).exclude(
        status=Notification.Status.SENT
    )
    for order_id in pending.values_list("order_id", flat=True):
        reasons.setdefault(str(order_id), "a notification is not sent")
    correlations = dict(Order.objects.filter(id__in=order_ids).values_list("correlation_id", "id"))
    audited = set(
        MessageRecord.objects.filter(correlation_id__in=correlations).values_list(
            "message_id", flat=True
        )
    )
    handled = set(
        InboxEntry.objects.filter(correlation_id__in=correlations).values_list(
            "group", "message_id"
        )
    )
    followers = _followers()
    outbox = OutboxMessage.objects.filter(correlation_id__in=correlations).values_list(
        "message_id", "type", "correlation_id"
    )
    for message_id, type_, correlation_id in outbox:
        order = str(correlations[correlation_id])
        if message_id not in audited:
            reasons.setdefault(order, f"{type_} not recorded by the audit group")
        for group in followers.get(type_, ()):
            if (group, message_id) not in handled:
                reasons.setdefault(order, f"{type_} not handled by {group}")
    return reasons


def _followers() -> dict[str, list[str]]:
    by_type: dict[str, list[str]] = {}
    for name, group in groups().items():
        for type_ in group.handlers:
            by_type.setdefault(type_, []).append(name)
    return by_type


def last_reactions(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Per order, when the last consumer handled or recorded a message of its conversation."""
    correlations = dict(Order.objects.filter(id__in=order_ids).values_list("correlation_id", "id"))
    last: dict[uuid.UUID, datetime] = {}
    for model, stamp in ((InboxEntry, "handled_at"), (MessageRecord, "recorded_at")):
        rows = (
            model.objects.filter(correlation_id__in=correlations)
            .values("correlation_id")
            .annotate(last=Max(stamp))
            .values_list("correlation_id", "last")
        )
        for correlation_id, when in rows:
            order = correlations[correlation_id]
            last[order] = max(when, last.get(order, when))
    return last


def confirmed_at(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Per order, when the shop confirmed it (handled the warehouse's StockReserved): from
    then on the customer's order page says so."""
    correlations = dict(Order.objects.filter(id__in=order_ids).values_list("correlation_id", "id"))
    rows = InboxEntry.objects.filter(
        group="shop", type="warehouse.StockReserved", correlation_id__in=correlations
    ).values_list("correlation_id", "handled_at")
    return {correlations[c]: at for c, at in rows}


def hop_seconds(order_ids: list[uuid.UUID]) -> list[float]:
    """Every hop of the run: a message's creation in the outbox to its handling by a group."""
    correlations = list(
        Order.objects.filter(id__in=order_ids).values_list("correlation_id", flat=True)
    )
    created = dict(
        OutboxMessage.objects.filter(correlation_id__in=correlations).values_list(
            "message_id", "time"
        )
    )
    handled = InboxEntry.objects.filter(correlation_id__in=correlations).values_list(
        "message_id", "handled_at"
    )
    return [(at - created[mid]).total_seconds() for mid, at in handled if mid in created]


def messages_of(order_ids: list[uuid.UUID]) -> list[OutboxMessage]:
    """Every message the orders' conversations sent, in the order they were written."""
    correlations = list(
        Order.objects.filter(id__in=order_ids).values_list("correlation_id", flat=True)
    )
    return list(OutboxMessage.objects.filter(correlation_id__in=correlations).order_by("id"))
