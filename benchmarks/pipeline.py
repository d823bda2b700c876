"""Scenario 2 and 5: orders through the whole pipeline, from BUY to their last reaction.

The BUYs are real storefront requests; the relay and one Celery worker per consumer group
(or two, for scenario 5) run as the Procfile starts them. An order's latency runs from the
moment its BUY was sent to the last time a consumer handled or recorded a message of its
conversation; throughput counts orders from the first BUY to the last reaction of all.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from kafka.admin import KafkaAdminClient

from messaging.kafka import bootstrap_servers
from messaging.registry import groups
from shop.models import Order, Product

from . import orders, web
from .stack import Stack


@dataclass
class PipelineRun:
    orders: int  # handled to the end (the throughput counts these)
    placed: int
    lost: int  # orders with a dead letter: never complete
    seconds: float  # first BUY sent to the last reaction of every order
    order_latencies: list[float]  # per order: BUY sent to its last reaction
    hop_latencies: list[float]  # per message and group: written to the outbox to handled
    confirmed_latencies: list[float]  # per order: BUY sent to the shop's confirmation
    buy: web.RequestRun
    order_ids: list[uuid.UUID]
    handled: int  # orders found complete once the run was over, counted again from scratch
    dead_letters: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.orders / self.seconds


def run(
    stack: Stack,
    products: list[Product],
    *,
    count: int,
    clients: int,
    rate: float | None = None,
    timeout: float,
    on_buy: Callable = lambda s: None,
    on_done: Callable[[int], None] = lambda n: None,
    window: int | None = None,
    strict: bool = True,
    seed: int = 11,
    on_handled: Callable[[], None] = lambda: None,
    ports: tuple[int, ...] = (),
) -> PipelineRun:
    """Place `count` orders and follow them to the end.

    `rate` paces the BUYs; `window` holds a BUY back while that many orders are between
    their BUY and their dispatch, so the load is what the pipeline sustains (see Window).
    `on_handled` is called once every order is handled, before the results are read.
    `ports` deals the BUYs to those web servers in turn (the stack's "web" by default).
    """
    chosen = web.products_for(products, count, seed=seed)
    gate = Window(window) if window else None

    def bought(sample) -> None:
        if gate:
            gate.placed(orders.order_id_of(sample.location))
        on_buy(sample)

    try:
        buy = web.post_form(
            stack,
            chosen,
            web.buy_path,
            clients=clients,
            rate=rate,
            on_sample=bought,
            before=gate.enter if gate else None,
            ports=ports,
        )
    finally:
        if gate:
            gate.close()
    sent = {orders.order_id_of(s.location): s.started for s in buy.samples}
    order_ids = list(sent)
    lost = orders.wait_until_handled(order_ids, timeout=timeout, strict=strict, progress=on_done)
    on_handled()  # the run's work is over; what follows is the harness reading the results
    done = [o for o in order_ids if o not in lost]
    last = orders.last_reactions(done)
    latencies = [last[o].timestamp() - sent[o] for o in done]
    seconds = max(t.timestamp() for t in last.values()) - min(sent.values())
    confirmed = orders.confirmed_at(done)
    return PipelineRun(
        orders=len(done),
        placed=count,
        lost=len(lost),
        seconds=seconds,
        order_latencies=latencies,
        hop_latencies=orders.hop_seconds(order_ids),
        confirmed_latencies=[confirmed[o].timestamp() - sent[o] for o in done if o in confirmed],
        buy=buy,
        order_ids=order_ids,
        handled=len(order_ids) - len(orders.incomplete(order_ids)),
        dead_letters=orders.dead_letter_reasons(),
    )


class Window:
    """At most `size` orders in flight: placed by a BUY but not yet dispatched by the shop.

    Without it the BUYs (hundreds a second) outrun the consumers (tens of orders a second)
    and every group's backlog grows for the whole run: the figure would then be the time
    to drain a queue, not a rate the shop sustains.
    """

    def __init__(self, size: int) -> None:
        self.size, self.sent, self.done = size, 0, 0
        # Placed through the window (their BUY answered) and not yet seen dispatched.
        self.in_flight: set[uuid.UUID] = set()
        self.dispatched = 0
        self.changed = threading.Condition()
        self.closed = threading.Event()
        self.poller = threading.Thread(target=self._poll, daemon=True)
        self.poller.start()

    def enter(self) -> None:
        with self.changed:
            while self.sent - self.done >= self.size:
                self.changed.wait(0.1)
            self.sent += 1

    def close(self) -> None:
        self.closed.set()
        self.poller.join()

    def _poll(self) -> None:
        try:
            while not self.closed.wait(0.05):
                done = self.count_done()
                with self.changed:
                    self.done = done
                    self.changed.notify_all()
        finally:
            connection.close()  # this thread's own connection

    def placed(self, order_id: uuid.UUID) -> None:
        with self.changed:
            self.in_flight.add(order_id)

    def count_done(self) -> int:
        """Orders that left the window: here, those placed through it and dispatched.

        Asks only about the orders in flight, by primary key (at most `size` of them): the
        poll runs twenty times a second, and counting the orders table instead scanned all
        of it each time, work of the harness that the database's CPU per order counted.
        """
        with self.changed:
            asked = list(self.in_flight)
        if asked:
            gone = set(
                Order.objects.filter(id__in=asked, status=Order.Status.DISPATCHED).values_list(
                    "id", flat=True
                )
            )
            with self.changed:
                self.in_flight -= gone
                self.dispatched += len(gone)
        return self.dispatched


def wait_for_consumers(members: int, *, timeout: float = 120) -> None:
    """Until every consumer group is stable with `members` members (a join takes seconds).

    With 0, until every group is empty: members that left must be gone before new ones
    join, or the broker balances partitions onto a departed member until its session ends.
    """
    names = sorted(groups())
    client = _Admin(bootstrap_servers=bootstrap_servers())
    deadline = time.monotonic() + timeout
    try:
        while True:
            described = client.describe_groups(names)
            ready = [
                name
                for name, g in described.items()
                if g["group_state"] == ("Stable" if members else "Empty")
                and len(g["members"]) == members
            ]
            if len(ready) == len(names):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"consumer groups not ready: {sorted(set(names) - set(ready))}")
            time.sleep(0.5)
    finally:
        client.close()


class _Admin(KafkaAdminClient):
    # kafka-python 3.0 always asks DescribeGroups for the authorized operations, then fails
    # to decode the bits Tansu sets (ValueError: 15 is not a valid ACLOperation). We do not
    # need them.
    def _process_acl_operations(self, obj: dict) -> dict:
        obj.pop("authorized_operations", None)
        return obj


def warm_up(stack: Stack, products: list[Product], *, members: int, clients: int, ports=()) -> None:
    """Joined groups, loaded code, open connections: none of it is part of any figure."""
    wait_for_consumers(members)
    run(
        stack,
        products,
        count=clients * max(len(ports), 1),
        clients=clients,
        timeout=120,
        window=clients,
        seed=3,
        ports=ports,
    )
