"""Scenario 7: ours beside the command chain, on the same orders, servers and tables.

Two halves, because each design must have the two cores to itself while it is measured:
`ours()` runs while the shop's relay and workers are up (one worker per group), `chain()`
once they are stopped, with the chain's three consumer processes instead. Each half
measures its design the same way:

- throughput: `orders` orders through the whole design, at most `window` in flight, and
  the CPU every process type used meanwhile (benchmarks.cputime), per order;
- the notifications worker stopped for `stop_seconds`: BUYs at `stop_rate` per second for
  that long, what was accepted, dispatched, counted by sales and emailed by the time the
  worker starts again, and how long after its start the last email went out.

The chain half also measures the BUY beside ours with the web server alone (alternating
rounds, as scenario 1 does), the monolith's CPU per order on the same number of orders,
and counts what adding loyalty changes in each design (loyalty.py).
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import asdict, dataclass

from django.db import connection
from kafka.admin import KafkaAdminClient, NewTopic

from devstack.procfile import process_types
from messaging.kafka import bootstrap_servers
from notifications.models import Notification
from sales.models import SaleRecord
from shop.models import Product
from warehouse.models import Reservation

from .. import cputime, orders, pipeline, setup, web
from ..report import Row
from ..stack import ROOT, Stack
from ..stats import summary_ms
from . import commands, loyalty, services
from .figures import Stop, Throughput

SERVICES = ("warehouse", "notifications", "sales")
EMAILS_PER_ORDER = 3  # received, confirmed, dispatched: in both designs
NOTIFICATIONS_PER_ORDER = 6  # and as many texts


@dataclass(frozen=True)
class Sizes:
    orders: int  # throughput and CPU, each design
    window: int
    stop_seconds: float  # the notifications worker is stopped this long ...
    stop_rate: float  # ... while BUYs arrive at this rate
    buys: int  # BUY latency, each design
    rounds: int


FULL = Sizes(orders=300, window=16, stop_seconds=60, stop_rate=5, buys=500, rounds=4)
QUICK = Sizes(orders=8, window=4, stop_seconds=2, stop_rate=4, buys=16, rounds=2)


def sizes_for(harness_sizes) -> Sizes:
    return QUICK if harness_sizes.quick else FULL


# --- ours -------------------------------------------------------------------------------


def ours(stack: Stack, products: list[Product], harness, bar, extra: dict) -> None:
    """With the shop's relay and one worker per group running (and warmed up)."""
    sizes = sizes_for(harness)
    with bar("7 ours: throughput (orders)", sizes.orders) as b:
        before = cputime.snapshot(_named(stack))
        run = pipeline.run(
            stack,
            products,
            count=sizes.orders,
            clients=harness.clients,
            timeout=harness.timeout,
            on_done=lambda n: b.update(n - b.n),
            window=sizes.window,
            strict=harness.quick,
            seed=17,
        )
        used = cputime.delta(before, cputime.snapshot(_named(stack)))
    if run.lost:
        raise RuntimeError(f"ours: {run.lost} orders lost to dead letters")
    extra.setdefault("chain", {})["ours"] = {
        "throughput": asdict(Throughput(run.orders, run.seconds, used)),
    }
    with bar("7 ours: notifications stopped (s)", None) as b:
        stop = _stopped(
            stack,
            products,
            sizes,
            harness,
            name="worker-notifications-1",
            command=process_types(ROOT / "Procfile")["worker-notifications"],
            path=web.buy_path,
            tick=b.update,
        )
    extra["chain"]["ours"]["stop"] = asdict(stop)


# --- the chain --------------------------------------------------------------------------


def chain(stack: Stack, products: list[Product], harness, bar, extra: dict) -> None:
    """Once the shop's relay and workers are stopped: the web server alone, then the chain."""
    sizes = sizes_for(harness)
    services.create_tables()
    create_topics(harness.partitions)
    result = extra.setdefault("chain", {})

    # The BUY, web server alone: ours and the chain's in alternating rounds.
    with bar("7 BUY, ours vs chain (requests)", 2 * sizes.buys) as b:
        ours_buy, chain_buy, warm = _buy_latencies(stack, products, sizes, harness, b.update)
    setup.forget_pending_outbox()  # ours' PlaceOrder commands: never sent
    result["buy"] = {"ours": summary_ms(ours_buy), "chain": summary_ms(chain_buy)}

    for service in SERVICES:
        _start(stack, service)
    wait_for_members(1)
    # The BUYs just measured are the warm-up: joined groups, loaded code, open connections.
    _wait_done(warm, timeout=harness.timeout)

    with bar("7 chain: throughput (orders)", sizes.orders) as b:
        before = cputime.snapshot(_named(stack))
        run = _chain_throughput(stack, products, sizes, harness, b)
        used = cputime.delta(before, cputime.snapshot(_named(stack)))
    result["chain"] = {"throughput": asdict(Throughput(run[0], run[1], used))}

    with bar("7 chain: notifications stopped (s)", None) as b:
        stop = _stopped(
            stack,
            products,
            sizes,
            harness,
            name="chain-notifications",
            command=_command("notifications"),
            path=lambda p: f"/bench/chain/{p.slug}/buy/",
            tick=b.update,
        )
    result["chain"]["stop"] = asdict(stop)
    stack.stop(*[f"chain-{s}" for s in SERVICES])

    # The monolith's CPU for as many orders: the same services in one request each.
    with bar("7 monolith: CPU (orders)", sizes.orders) as b:
        before = cputime.snapshot(_named(stack))
        mono = web.post_form(
            stack,
            web.products_for(products, sizes.orders, seed=19),
            web.monolith_path("whole"),
            clients=harness.clients,
            on_sample=lambda s: b.update(),
        )
        used = cputime.delta(before, cputime.snapshot(_named(stack)))
    setup.forget_pending_outbox()
    setup.purge_task_queues()
    result["monolith"] = {"throughput": asdict(Throughput(sizes.orders, mono.seconds, used))}
    result["loyalty"] = loyalty.count()
    result["sizes"] = asdict(sizes)


def rows(extra: dict) -> list[Row]:
    """The table's rows: ours as the figure, the chain as the baseline."""
    data = extra["chain"]
    ours, chain_, mono = data["ours"], data["chain"], data["monolith"]
    out = []
    for p in ("p50", "p99"):
        out.append(
            Row(
                "7 ours vs chain: BUY",
                f"{p} latency (n={data['buy']['ours']['n']} / {data['buy']['chain']['n']})",
                data["buy"]["ours"][p],
                data["buy"]["chain"][p],
                "chain: order + 3 commands acknowledged by Kafka",
                "ms",
            )
        )
    t_ours, t_chain, t_mono = (Throughput(**x["throughput"]) for x in (ours, chain_, mono))
    out += [
        Row(
            "7 ours vs chain: throughput",
            "orders/s, BUY to last reaction",
            t_ours.per_second,
            t_chain.per_second,
            "chain",
            "orders/s",
        ),
        Row(
            "7 ours vs chain: CPU",
            "CPU ms per order, every process but the browsers",
            t_ours.cpu_ms_per_order(),
            t_chain.cpu_ms_per_order(),
            "chain",
            "ms",
        ),
        Row(
            "7 ours vs monolith: CPU",
            "CPU ms per order, every process but the browsers",
            t_ours.cpu_ms_per_order(),
            t_mono.cpu_ms_per_order(),
            "monolith, whole conversation",
            "ms",
        ),
        Row(
            "7 chain vs monolith: CPU",
            "CPU ms per order, every process but the browsers",
            t_chain.cpu_ms_per_order(),
            t_mono.cpu_ms_per_order(),
            "monolith, whole conversation",
            "ms",
        ),
    ]
    s_ours, s_chain = Stop(**ours["stop"]), Stop(**chain_["stop"])
    for measure, unit, get in (
        ("BUYs accepted per second during the stop", "BUYs/s", lambda s: s.accepted_per_second),
        ("orders dispatched during the stop", "orders", lambda s: s.dispatched),
        ("orders counted by sales during the stop", "orders", lambda s: s.sales),
        ("emails sent during the stop", "emails", lambda s: s.emails),
        ("seconds from restart to the last email", "s", lambda s: s.caught_up_after),
    ):
        out.append(
            Row(
                f"7 notifications stopped {s_ours.seconds:.0f} s",
                measure,
                get(s_ours),
                get(s_chain),
                "chain",
                unit,
            )
        )
    counts = data["loyalty"]
    if counts["ours"] is not None:
        out.append(
            Row(
                "7 adding loyalty",
                "lines changed outside the new code",
                counts["ours"]["outside"]["lines"],
                counts["chain"]["outside"]["lines"],
                "chain",
                "lines",
            )
        )
    return out


# --- the notifications worker stopped ----------------------------------------------------


def _stopped(stack, products, sizes, harness, *, name, command, path, tick) -> Stop:
    count = max(1, round(sizes.stop_rate * sizes.stop_seconds))
    stack.stop(name)
    down = time.monotonic()
    buys = _buys_counting(tick)
    run = web.post_form(
        stack,
        web.products_for(products, count, seed=23),
        path,
        clients=harness.clients,
        rate=sizes.stop_rate,
        on_sample=buys,
    )
    # The stop lasts stop_seconds even if the BUYs finished a little early.
    time.sleep(max(0.0, down + sizes.stop_seconds - time.monotonic()))
    order_ids = [orders.order_id_of(s.location) for s in run.samples]
    during = _progress(order_ids)
    down_for = time.monotonic() - down
    started = time.monotonic()
    stack.start(name, command)
    first = None
    emails_wanted = EMAILS_PER_ORDER * len(order_ids)
    deadline = started + harness.timeout
    while True:
        now = _progress(order_ids)
        if first is None and now["emails"] > during["emails"]:
            first = time.monotonic() - started
        if now["emails"] >= emails_wanted:
            caught_up = time.monotonic() - started
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: {now['emails']} of {emails_wanted} emails after restart")
        tick(0)
        time.sleep(0.1)
    _wait_done(order_ids, timeout=harness.timeout)
    return Stop(
        seconds=down_for,
        buys_sent=count,
        buys_accepted=sum(1 for s in run.samples if s.status == 302),
        buy_seconds=run.seconds,
        dispatched=during["dispatched"],
        sales=during["sales"],
        emails=during["emails"],
        emails_after=now["emails"],
        first_email_after=first if first is not None else caught_up,
        caught_up_after=caught_up,
    )


def _buys_counting(tick):
    def on_sample(sample) -> None:
        tick(1)

    return on_sample


def _progress(order_ids: list[uuid.UUID]) -> dict[str, int]:
    return {
        "dispatched": Reservation.objects.filter(
            order_id__in=order_ids, status=Reservation.Status.DISPATCHED
        ).count(),
        "sales": SaleRecord.objects.filter(order_id__in=order_ids).count(),
        "emails": Notification.objects.filter(
            order_id__in=order_ids, channel="email", status=Notification.Status.SENT
        ).count(),
    }


def _wait_done(order_ids: list[uuid.UUID], *, timeout: float) -> None:
    """Until every order's reactions are done: dispatched, counted, all six notifications
    sent. Ours is then also checked the shop's way (every group, the audit log)."""
    deadline = time.monotonic() + timeout
    while True:
        sent = Notification.objects.filter(
            order_id__in=order_ids, status=Notification.Status.SENT
        ).count()
        counted = SaleRecord.objects.filter(order_id__in=order_ids).count()
        if sent >= NOTIFICATIONS_PER_ORDER * len(order_ids) and counted >= len(order_ids):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{counted} of {len(order_ids)} orders counted, {sent} sent")
        time.sleep(0.2)


# --- the chain's processes and runs -----------------------------------------------------


def _command(service: str) -> str:
    return f"{sys.executable} -m benchmarks.chain.worker {service}"


def _start(stack: Stack, service: str) -> None:
    stack.start(f"chain-{service}", _command(service))


def _named(stack: Stack) -> dict[int, str]:
    """Session leader's pid -> process type (worker-notifications-1 -> worker-notifications)."""
    return {s.popen.pid: name.removesuffix("-1") for name, s in stack.processes.items()}


def create_topics(partitions: int) -> None:
    client = KafkaAdminClient(bootstrap_servers=bootstrap_servers(), client_id="chain-admin")
    try:
        missing = set(commands.TOPICS.values()) - set(client.list_topics())
        if missing:
            client.create_topics(
                [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
            )
    finally:
        client.close()


def wait_for_members(members: int, *, timeout: float = 120) -> None:
    client = pipeline._Admin(bootstrap_servers=bootstrap_servers())
    names = [f"chain-{s}" for s in SERVICES]
    deadline = time.monotonic() + timeout
    try:
        while True:
            described = client.describe_groups(names)
            ready = [
                n
                for n, g in described.items()
                if g["group_state"] == "Stable" and len(g["members"]) == members
            ]
            if len(ready) == len(names):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"chain groups not ready: {sorted(set(names) - set(ready))}")
            time.sleep(0.3)
    finally:
        client.close()


def _chain_throughput(stack, products, sizes, harness, bar) -> tuple[int, float]:
    """`orders` chain BUYs, at most `window` between their BUY and their sale; the orders
    done and the seconds from the first BUY to the last reaction of all."""
    counted_before = SaleRecord.objects.count()
    gate = _SalesWindow(sizes.window, counted_before)
    try:
        run = web.post_form(
            stack,
            web.products_for(products, sizes.orders, seed=17),
            lambda p: f"/bench/chain/{p.slug}/buy/",
            clients=harness.clients,
            before=gate.enter,
        )
    finally:
        gate.close()
    order_ids = [orders.order_id_of(s.location) for s in run.samples]
    deadline = time.monotonic() + harness.timeout
    while SaleRecord.objects.filter(order_id__in=order_ids).count() < len(order_ids):
        bar.update(SaleRecord.objects.count() - counted_before - bar.n)
        if time.monotonic() > deadline:
            raise TimeoutError("chain orders not done")
        time.sleep(0.2)
    _wait_done(order_ids, timeout=harness.timeout)
    bar.update(len(order_ids) - bar.n)
    first = min(s.started for s in run.samples)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT max(handled_at) FROM {services.HANDLED_TABLE} WHERE order_id = ANY(%s)",
            [order_ids],
        )
        last_handled = cursor.fetchone()[0]
    last_sent = max(
        Notification.objects.filter(order_id__in=order_ids).values_list("sent_at", flat=True)
    )
    return len(order_ids), max(last_handled, last_sent).timestamp() - first


class _SalesWindow(pipeline.Window):
    """At most `size` chain orders between their BUY and their sale (pipeline.Window's rule,
    with the chain's last step as the end: the chain's shop never learns of the dispatch)."""

    def __init__(self, size: int, counted_before: int) -> None:
        self.base = counted_before  # before the poller starts counting
        super().__init__(size)

    def count_done(self) -> int:
        return SaleRecord.objects.count() - self.base


def _buy_latencies(stack, products, sizes, harness, tick):
    """Ours' BUYs and the chain's, alternating; their latencies and the chain's order ids."""
    chosen = web.products_for(products, sizes.buys, seed=29)
    size = -(-sizes.buys // sizes.rounds)
    ours, theirs, placed = [], [], []
    for start in range(0, sizes.buys, size):
        part = chosen[start : start + size]
        run = web.post_form(
            stack, part, web.buy_path, clients=harness.clients, on_sample=lambda s: tick()
        )
        ours += run.latencies()
        run = web.post_form(
            stack,
            part,
            lambda p: f"/bench/chain/{p.slug}/buy/",
            clients=harness.clients,
            on_sample=lambda s: tick(),
        )
        theirs += run.latencies()
        placed += [orders.order_id_of(s.location) for s in run.samples]
    return ours, theirs, placed
