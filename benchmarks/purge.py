"""Scenario 6: the BUY while the purge deletes a large backlog of old rows.

Old rows are bulk-inserted straight into the outbox (published), the inbox and the message
log (`INSERT ... SELECT generate_series`), aged past the default retention windows. Then
the BUY is measured at a steady rate three times: before the purge (baseline), while
`messaging.retention.purge()` runs in a process of its own (as long as it runs), and
after it (baseline again, now with the purge's dead rows in the tables). The baseline is
the before and after samples together.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from dataclasses import dataclass

from django.db import connection, models
from django.db.models import JSONField

from messagelog.models import MessageRecord
from messaging.models import InboxEntry, OutboxMessage

from . import purger, web
from .stack import Stack

# Per table: its share of the rows and the columns not left to generic_value(). `g` is the
# row's number; ages are well past the default windows (7 days, 30 for the log).
OLD_ROWS = {
    OutboxMessage: (
        0.35,
        {
            "message_id": "md5('bench-outbox-' || g)::uuid",
            "topic": "'orders'",
            "key": "md5('key-' || mod(g, 50000))",
            "type": "'OrderPlaced'",
            "source": "'shop'",
            "kind": "'event'",
            "correlation_id": "md5('corr-' || (g / 4))::uuid",
            "time": "now() - interval '60 days' + g * interval '1 ms'",
            "payload": """'{"order_id": "x", "lines": [{"sku": "SKU-1", "quantity": 1}]}'::jsonb""",
            "version": "1",
            "published_at": "now() - interval '60 days' + g * interval '1 ms'",
            "partition": "mod(g, 4)",
            "offset": "g",
        },
    ),
    InboxEntry: (
        0.35,
        {
            "group": "(ARRAY['shop','warehouse','notifications','sales'])[1 + mod(g, 4)]",
            "message_id": "md5('bench-inbox-' || g)::uuid",
            "type": "'OrderPlaced'",
            "correlation_id": "md5('corr-' || (g / 4))::uuid",
            "started_at": "now() - interval '60 days' + g * interval '1 ms'",
            "handled_at": "now() - interval '60 days' + g * interval '1 ms'",
            "duplicates": "0",
        },
    ),
    MessageRecord: (
        0.30,
        {
            "topic": "'orders'",
            "partition": "mod(g, 4)",
            "offset": "g",
            "record_timestamp": "g",
            "key": "md5('key-' || mod(g, 50000))",
            "message_id": "md5('bench-log-' || g)::uuid",
            "type": "'OrderPlaced'",
            "source": "'shop'",
            "kind": "'event'",
            "correlation_id": "md5('corr-' || (g / 4))::uuid",
            "time": "now() - interval '60 days' + g * interval '1 ms'",
            "headers": "'{}'::jsonb",
            "payload": """'{"order_id": "x"}'::jsonb""",
            "recorded_at": "now() - interval '60 days' + g * interval '1 ms'",
        },
    ),
}


def generic_value(field: models.Field) -> str:
    if field.null:
        return "NULL"
    if isinstance(field, JSONField):
        return "'{}'::jsonb"
    if isinstance(field, models.CharField | models.TextField):
        return "''"
    return "0"


def insert_old_rows(total: int) -> dict[str, int]:
    """About `total` old rows over the three tables; the count per table."""
    inserted = {}
    for model, (share, values) in OLD_ROWS.items():
        n = int(total * share) + 1
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        exprs = ", ".join(values.get(f.name, generic_value(f)) for f in fields)
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {exprs} FROM generate_series(1, %s) AS g",
                [n],
            )
            cursor.execute(f"ANALYZE {table}")
        inserted[table] = n
    return inserted


@dataclass
class PurgeRun:
    before: web.RequestRun
    during: web.RequestRun
    after: web.RequestRun
    inserted: dict[str, int]
    insert_seconds: float
    purge_seconds: float
    deleted: int
    per_table: dict[str, dict]

    @property
    def baseline(self) -> list[float]:
        return self.before.latencies() + self.after.latencies()

    @property
    def rows_per_second(self) -> float:
        return self.deleted / self.purge_seconds if self.purge_seconds else 0.0


def run(
    stack: Stack, products, *, rows: int, requests: int, clients: int, rate: float, tick
) -> PurgeRun:
    """Scenario 6; the web server alone runs (no relay, no worker)."""

    begin = time.perf_counter()
    inserted = insert_old_rows(rows)
    insert_seconds = time.perf_counter() - begin

    def buys(n: int, seed: int) -> web.RequestRun:
        chosen = web.products_for(products, n, seed=seed)
        return web.post_form(
            stack, chosen, web.buy_path, clients=clients, rate=rate, on_sample=tick
        )

    before = buys(requests, 21)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=purger.purge, args=(results,), daemon=True)
    process.start()
    samples, seconds, seed = [], 0.0, 100
    chunk = max(clients, requests // 4)
    while process.is_alive() or not samples:
        part = buys(chunk, seed)
        samples += part.samples
        seconds += part.seconds
        seed += 1
    process.join()
    try:
        outcome = results.get(timeout=5)  # a few hundred bytes: put before the process ends
    except queue.Empty:
        raise RuntimeError(
            f"the purge's process ended ({process.exitcode}) without a report"
        ) from None
    if "error" in outcome:
        raise RuntimeError(f"the purge failed: {outcome['error']}")
    after = buys(requests, 22)
    return PurgeRun(
        before=before,
        during=web.RequestRun(samples, seconds),
        after=after,
        inserted=inserted,
        insert_seconds=insert_seconds,
        purge_seconds=outcome["seconds"],
        deleted=outcome["deleted"],
        per_table=outcome["per_table"],
    )
