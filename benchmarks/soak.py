"""`make soak` (`python -m benchmarks.soak`): many orders with retention set to seconds.

The stack is the benchmark's (real servers of its own, the Procfile's web, relay and one
worker per consumer group). Retention is set to seconds (`--retain` for the outbox and the
inbox, `--retain-log` for the message log, handling failures and dead letters) and this
process runs `messaging.retention.purge()` every `--interval` seconds, timing each run.
Orders are placed at a steady `--rate` (never more than `--window` in flight), every
table's row count is sampled every `--sample` seconds, and at the end every order must
have been handled once. The inbox is purged as it goes, so "once" is read from each
group's effects, not from inbox rows:

- shop: every order dispatched;
- warehouse: one reservation per order, and stock reserved + shipped equal to the units;
- sales: one sale record per order, and the daily counters add up to the orders;
- notifications: the same number of notifications per order, all sent, one sent email or
  text per notification;
- no dead letter.

The report goes beside the benchmark's: bench-results/soak.json and soak.md (the row
counts over time, as a table and a chart). `--quick` (300 orders, retention of 10 s, a
purge every 3 s: about a minute) is what tests/test_soak_quick.py runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLES = {  # label: database table
    "outbox": "messaging_outboxmessage",
    "inbox": "messaging_inboxentry",
    "message log": "messaging_messagerecord",
    "handling failures": "messaging_handlingfailure",
    "dead letters": "messaging_deadletter",
    "orders (not purged)": "shop_order",
}
PURGED = [label for label in TABLES if "not purged" not in label]
BOUNDED = "table counts bounded"  # the check's name; the tables that fail it are named


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=10.0, help="orders per second, at most")
    parser.add_argument("--window", type=int, default=24, help="orders in flight, at most")
    parser.add_argument("--retain", type=int, default=20, help="seconds: outbox and inbox")
    parser.add_argument("--retain-log", type=int, default=30, help="seconds: log, failures")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between purges")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between counts")
    parser.add_argument("--output", type=Path, default=ROOT / "bench-results")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to drain at the end")
    parser.add_argument("--quick", action="store_true", help="300 orders, 10 s windows")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.rate, args.retain, args.retain_log = 300, 15.0, 10, 12
        args.interval, args.sample, args.timeout = 3.0, 2.0, 240

    from .stack import Stack, start_servers

    base = Path(tempfile.mkdtemp(prefix="shop-soak-"))
    servers = start_servers(base / "servers")
    # Before django.setup(): settings read them, and the stack's processes inherit them.
    os.environ.update(
        {
            "RETAIN_OUTBOX": f"{args.retain}s",
            "RETAIN_INBOX": f"{args.retain}s",
            "RETAIN_MESSAGE_LOG": f"{args.retain_log}s",
            "RETAIN_HANDLING_FAILURES": f"{args.retain_log}s",
            "RETAIN_DEAD_LETTERS": f"{args.retain_log}s",
            "PURGE_INTERVAL": f"{int(args.interval) or 1}s",
        }
    )
    stack = Stack(log_dir=base / "logs", servers=servers)
    try:
        import django

        django.setup()
        data = soak(stack, args)
    except BaseException:
        target = args.output / "soak-logs"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(base / "logs", target, dirs_exist_ok=True)
        print(f"soak failed; process logs copied to {target}")
        raise
    finally:
        stack.stop()
        servers.stop()
    shutil.rmtree(base, ignore_errors=True)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "soak.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    text = markdown(data)
    (args.output / "soak.md").write_text(text)
    print(text)
    print(f"\nreport: {args.output / 'soak.md'}")
    failed = [
        f"{name} (not bounded: {', '.join(data['unbounded'])})" if name == BOUNDED else name
        for name, ok in data["checks"].items()
        if not ok
    ]
    if failed:
        print("soak FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def soak(stack, args) -> dict:
    from django.db import close_old_connections

    from messaging import retention

    from . import pipeline, setup, web
    from .orders import order_id_of

    products = setup.prepare(partitions=2)
    stack.start_web()
    stack.start_relay()
    stack.start_workers(per_group=1)
    pipeline.warm_up(stack, products, members=1, clients=4)
    before = effects(None)

    stop = threading.Event()
    begin = time.monotonic()
    samples: list[dict] = []
    purges: list[dict] = []
    placed = [0]

    def sampler() -> None:
        try:
            while True:
                samples.append(
                    {"t": round(time.monotonic() - begin, 1), "placed": placed[0]} | counts()
                )
                if stop.wait(args.sample):
                    return
        finally:
            close_old_connections()

    def purger() -> None:
        try:
            while not stop.wait(args.interval):
                started = time.monotonic()
                report = retention.purge()
                purges.append(
                    {
                        "t": round(started - begin, 1),
                        "seconds": round(time.monotonic() - started, 3),
                        "deleted": {t.name: t.deleted for t in report.tables},
                    }
                )
        finally:
            close_old_connections()

    threads = [threading.Thread(target=f, daemon=True) for f in (sampler, purger)]
    for thread in threads:
        thread.start()
    chosen = web.products_for(products, args.orders, seed=17)
    gate = pipeline.Window(args.window)

    def tick(sample) -> None:
        gate.placed(order_id_of(sample.location))
        placed[0] += 1
        if placed[0] % 500 == 0:
            print(
                f"soak: {placed[0]} orders placed in {time.monotonic() - begin:.0f} s", flush=True
            )

    try:
        buy = web.post_form(
            stack,
            chosen,
            web.buy_path,
            clients=4,
            rate=args.rate,
            before=gate.enter,
            on_sample=tick,
        )
    finally:
        gate.close()
    placing = time.monotonic() - begin
    order_ids = [order_id_of(s.location) for s in buy.samples]
    drained = wait_dispatched(order_ids, args.timeout)
    caught_up = wait_caught_up(args.timeout)
    # Two more purge intervals and a window: the tables should fall back to their floor.
    time.sleep(max(args.retain, args.retain_log) + 2 * args.interval)
    stop.set()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - begin
    after = effects(order_ids)
    checks = handled_once(order_ids, before, after)
    checks["every order dispatched within the timeout"] = drained
    checks["every consumer group caught up (the message log too)"] = caught_up is not None
    unbounded = unbounded_tables(samples)
    checks[BOUNDED] = not unbounded
    purge_seconds = sum(p["seconds"] for p in purges)
    deleted = {}
    for p in purges:
        for table, n in p["deleted"].items():
            deleted[table] = deleted.get(table, 0) + n
    return {
        "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "orders": len(order_ids),
        "placing_seconds": round(placing, 1),
        "seconds": round(seconds, 1),
        "orders_per_second": round(len(order_ids) / placing, 2),
        # From the last order placed to every group's lag at zero.
        "caught_up_seconds": None if caught_up is None else round(caught_up - begin - placing, 1),
        "buy_p99_ms": round(1000 * percentile(buy.latencies(), 0.99), 1),
        "samples": samples,
        "max_rows": max_rows(samples),
        "unbounded": unbounded,
        "purges": purges,
        "purge": {
            "runs": len(purges),
            "seconds": round(purge_seconds, 2),
            "share_of_wall_time": round(purge_seconds / seconds, 4),
            "longest_run_seconds": max((p["seconds"] for p in purges), default=0),
            "deleted": deleted,
            "rows_per_second": round(sum(deleted.values()) / purge_seconds) if purge_seconds else 0,
        },
        "effects": after,
        "checks": checks,
    }


def counts(tables: dict[str, str] = TABLES) -> dict[str, int]:
    from django.db import connection

    # Each row names its table: the rows of a UNION ALL come in no promised order, and once
    # the tables are large PostgreSQL runs the counts as a Parallel Append, which returns
    # them as its workers finish, the costliest first (the full soak read 10,004 orders as
    # dead letters when the rows were read by position).
    sql = " UNION ALL ".join("SELECT %s::text, count(*) FROM " + table for table in tables.values())
    with connection.cursor() as cursor:
        cursor.execute(sql, list(tables))
        return by_label(cursor.fetchall(), tables)


def by_label(rows, labels=TABLES) -> dict[str, int]:
    """(label, count) rows, in any order, as {label: count} in the labels' order."""
    found = dict(rows)
    if sorted(found) != sorted(labels) or len(rows) != len(labels):
        raise ValueError(f"expected one count for each of {list(labels)}, got {rows!r}")
    return {label: found[label] for label in labels}


def max_rows(samples: list[dict]) -> dict[str, int]:
    return {label: max(s[label] for s in samples) for label in TABLES}


def effects(order_ids) -> dict:
    """What each group did, counted from its own tables (the inbox is purged meanwhile)."""
    from django.db.models import Count, Sum

    from messaging.models import DeadLetter
    from notifications.models import Notification, SentEmail, SentText
    from sales.models import DailyProductSales, SaleRecord
    from shop.models import Order
    from warehouse.models import Reservation

    def mine(qs, field="order_id"):
        return qs if order_ids is None else qs.filter(**{f"{field}__in": order_ids})

    notes = mine(Notification.objects.all())
    per_order = notes.values("order_id").annotate(n=Count("id")).values_list("n", flat=True)
    return {
        "dispatched": mine(Order.objects.filter(status=Order.Status.DISPATCHED), "id").count(),
        "reservations": mine(Reservation.objects.all()).count(),
        "sale_records": mine(SaleRecord.objects.all()).count(),
        "daily_orders": DailyProductSales.objects.aggregate(n=Sum("orders"))["n"] or 0,
        "notifications": notes.count(),
        "notifications_sent": notes.filter(status=Notification.Status.SENT).count(),
        "notifications_per_order": sorted(set(per_order)),
        "emails": notes.filter(channel=Notification.Channel.EMAIL).count(),
        "texts": notes.filter(channel=Notification.Channel.TEXT).count(),
        "sent_emails": SentEmail.objects.count(),
        "sent_texts": SentText.objects.count(),
        "dead_letters": DeadLetter.objects.count(),
    }


def handled_once(order_ids, before: dict, after: dict) -> dict[str, bool]:
    n = len(order_ids)
    return {
        "shop: every order dispatched": after["dispatched"] == n,
        "warehouse: one reservation per order": after["reservations"] == n,
        "sales: one sale record per order": after["sale_records"] == n,
        "sales: daily counters add up to the orders": after["daily_orders"] - before["daily_orders"]
        == n,
        "notifications: the same number per order, all sent": len(after["notifications_per_order"])
        == 1
        and after["notifications_sent"] == after["notifications"],
        "notifications: one email sent per email notification": after["sent_emails"]
        - before["sent_emails"]
        == after["emails"],
        "notifications: one text sent per text notification": after["sent_texts"]
        - before["sent_texts"]
        == after["texts"],
        "no dead letters": after["dead_letters"] == 0,
    }


def wait_dispatched(order_ids, timeout: float) -> bool:
    """Every order dispatched, and every notification of every order sent (the last ones
    follow the dispatch)."""
    from django.db.models import Count

    from notifications.models import Notification
    from shop.models import Order

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = Order.objects.filter(id__in=order_ids, status=Order.Status.DISPATCHED).count()
        notes = Notification.objects.filter(order_id__in=order_ids)
        per_order = set(
            notes.values("order_id").annotate(n=Count("id")).values_list("n", flat=True)
        )
        unsent = notes.exclude(status=Notification.Status.SENT).count()
        if done == len(order_ids) and len(per_order) == 1 and not unsent:
            return True
        time.sleep(1)
    return False


def wait_caught_up(timeout: float) -> float | None:
    """The moment (time.monotonic()) every consumer group, the audit that writes the message
    log among them, had read everything; None if one had not within `timeout`."""
    from messagelog.lag import total_lag_by_group

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(total_lag_by_group().values()):
            return time.monotonic()
        time.sleep(1)
    return None


def unbounded_tables(samples: list[dict]) -> list[str]:
    """The purged tables whose counts grew with the run, each judged on its own column."""
    return [label for label in PURGED if not bounded(samples, label)]


def bounded(samples: list[dict], label: str) -> bool:
    """Bounded: the second half of the run never holds more rows than 1.5 times the first
    half's highest count (plus a little slack for short runs); a table that grows with the
    orders doubles instead."""
    half = len(samples) // 2
    if half < 2:
        return True
    first = max(s[label] for s in samples[:half])
    second = max(s[label] for s in samples[half:])
    return second <= 1.5 * first + 50


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def markdown(data: dict) -> str:
    p = data["parameters"]
    purge = data["purge"]
    lines = [
        f"Soak: {data['orders']} orders in {data['placing_seconds']} s "
        f"({data['orders_per_second']} orders/s; BUY p99 {data['buy_p99_ms']} ms), "
        f"{data['seconds']} s in all; retention {p['retain']} s (outbox, inbox), "
        f"{p['retain_log']} s (message log, failures, dead letters); a purge every "
        f"{p['interval']} s.",
        "",
        "| table | max rows | rows at the end | purged | bounded |",
        "|---|---:|---:|---:|---|",
    ]
    last = data["samples"][-1]
    unbounded = data.get("unbounded", [])
    for label in TABLES:
        purged = f"{purge['deleted'].get(label, 0):,}" if label in PURGED else "—"
        verdict = "—" if label not in PURGED else "**no**" if label in unbounded else "yes"
        lines.append(
            f"| {label} | {data['max_rows'][label]:,} | {last[label]:,} | {purged} | {verdict} |"
        )
    lines += [
        "",
        f"Purge: {purge['runs']} runs, {purge['seconds']} s in all "
        f"({100 * purge['share_of_wall_time']:.1f}% of the wall time), longest run "
        f"{purge['longest_run_seconds']} s, {purge['rows_per_second']:,} rows/s.",
        "",
        "Every consumer group caught up "
        + (
            f"{data['caught_up_seconds']} s after the last order was placed."
            if data.get("caught_up_seconds") is not None
            else "**not** within the timeout."
        ),
        "",
        "Handled once (from each group's effects):",
        "",
    ]
    lines += [
        f"- {name}: {'yes' if ok else '**no**'}"
        + (f" (not bounded: {', '.join(unbounded)})" if name == BOUNDED and unbounded else "")
        for name, ok in data["checks"].items()
    ]
    lines += [
        "",
        "Row counts over time (one line per sample, `#` = the table's share of its max):",
        "",
    ]
    lines += ["```", chart(data["samples"]), "```", ""]
    return "\n".join(lines)


def chart(samples: list[dict], width: int = 30) -> str:
    labels = PURGED[:3]
    peak = {label: max(1, max(s[label] for s in samples)) for label in labels}
    step = max(1, len(samples) // 40)
    rows = [
        f"{'t (s)':>7} {'placed':>7}  " + "  ".join(f"{label:<{width + 8}}" for label in labels)
    ]
    for s in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        cells = []
        for label in labels:
            bar = "#" * round(width * s[label] / peak[label])
            cells.append(f"{s[label]:>7} {bar:<{width}}")
        rows.append(f"{s['t']:>7} {s['placed']:>7}  " + "  ".join(cells))
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
