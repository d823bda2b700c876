"""The sales projection: figures per product and day, from the order facts only.

An order counts on the day it was placed; its cancellation reverses exactly what it
added and is counted on that same day, so a day's figures settle to what was kept.

A cancellation can be handled before its placement: the placement was dead-lettered and
skipped, or a replay started after it. It is then remembered as a sale record without a
day, and the placement, if it ever comes, is counted and reversed at once: the figures
come out as if the two had arrived in order.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction

from messaging import beforecommit, rows

from .models import DailyProductSales, SaleRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placed:
    order_id: uuid.UUID
    day: date
    lines: list[dict]  # [{"sku", "name", "quantity", "unit_price": {"amount", "currency"}}]


@dataclass(frozen=True)
class Cancelled:
    order_id: uuid.UUID


def sale_record(*, order_id: uuid.UUID, placed_at, lines: list[dict]) -> None:
    """Count an order on the day it was placed, once, however often it is told."""
    beforecommit.together(sales_apply, [Placed(order_id, placed_at.date(), lines)])


def sale_reverse(*, order_id: uuid.UUID) -> None:
    """Reverse what an order added (or remember its cancellation for its placement)."""
    beforecommit.together(sales_apply, [Cancelled(order_id)])


# Joins its caller's transaction (a handler's) rather than open a savepoint of its own. A
# batch's facts (messaging.beforecommit) take a handful of statements together, whatever
# their number: a replay runs them for every order ever placed.
@transaction.atomic(savepoint=False)
def sales_apply(facts: list[Placed | Cancelled]) -> None:
    """Apply order facts to the sale records and the figures, each order's in the order
    given: its first fact makes its record, a later one changes it, and the figures of
    every order move together."""
    by_order: dict[uuid.UUID, list] = defaultdict(list)
    for fact in facts:
        by_order[fact.order_id].append(fact)
    figures = Figures()
    fresh = {order_id: SaleRecord(order_id=order_id, lines=[]) for order_id in by_order}
    guesses = {order_id: _apply(fresh[order_id], by_order[order_id]) for order_id in fresh}
    counted = [(order_id, guesses.pop(order_id)) for order_id in _insert_new(fresh.values())]
    # The orders that had a record: their guesses, made as if they were new, are dropped.
    known = SaleRecord.objects.select_for_update().filter(order_id__in=guesses).order_by("order_id")
    changed = []
    for record in known:
        before = (record.day, record.cancelled)
        counted.append((record.order_id, _apply(record, by_order[record.order_id])))
        if (record.day, record.cancelled) != before:
            changed.append(record)
    rows.update(SaleRecord, changed, ["day", "lines", "cancelled"])
    for order_id, (counts, late) in counted:
        if late:
            logger.info("sales: order %s was cancelled before it was placed here", order_id)
        figures.add(counts)
    figures.write()


def _apply(record: SaleRecord, facts: list) -> tuple[list[tuple[date, list, int]], bool]:
    """Move the record through the facts; returns what to count, (day, lines, +1) for a
    sale and (day, lines, -1) for its cancellation, and whether the cancellation came
    first."""
    counts, late = [], False
    for fact in facts:
        if isinstance(fact, Placed):
            if record.day is not None:
                continue  # counted before: a fact is not counted twice
            record.day, record.lines = fact.day, fact.lines
            counts.append((record.day, record.lines, +1))
            if record.cancelled:
                counts.append((record.day, record.lines, -1))
                late = True
        elif not record.cancelled:
            record.cancelled = True
            if record.day is not None:  # else nothing counted yet: remembered for the placement
                counts.append((record.day, record.lines, -1))
    return counts, late


def _insert_new(records) -> set[uuid.UUID]:
    """Insert the records of orders that have none; returns those orders. An order whose
    record is being inserted by another transaction waits for it, then counts as known."""
    records = sorted(records, key=lambda r: r.order_id)
    columns = {"order_id": "uuid", "day": "date", "lines": "jsonb", "cancelled": "boolean"}
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SaleRecord._meta.db_table} ({', '.join(columns)}) "
            f"SELECT * FROM {rows.recordset('given', columns)} "
            "ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
            [rows.document({c: getattr(r, c) for c in columns} for r in records)],
        )
        return {row[0] for row in cursor.fetchall()}


class Figures:
    """What a batch adds to each product's day, in each currency, written in two
    statements at most (`write`)."""

    # A row's identity and name, then what a batch adds to it: each with its type.
    KEY = {"day": "date", "sku": "varchar", "currency": "varchar", "name": "varchar"}
    COLUMNS = {
        "orders": "integer",
        "units": "integer",
        "revenue": "numeric",
        "cancelled_orders": "integer",
        "cancelled_units": "integer",
    }

    def __init__(self) -> None:
        self.names: dict[tuple, str] = {}
        self.deltas: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal(0), 0, 0])

    def add(self, counts: list[tuple[date, list, int]]) -> None:
        """Count what `_apply` found for one order."""
        for day, lines, sign in counts:
            for line in lines:
                price, quantity = line["unit_price"], line["quantity"]
                key = (day, line["sku"], price["currency"])
                self.names.setdefault(key, line["name"])
                delta = self.deltas[key]
                delta[0] += sign
                delta[1] += sign * quantity
                delta[2] += sign * Decimal(price["amount"]) * quantity
                if sign < 0:  # a cancellation
                    delta[3] += 1
                    delta[4] += quantity

    def write(self) -> None:
        """One upsert for the rows the batch adds orders to; one UPDATE for those it takes
        orders from, which exist (what is reversed was counted) and whose negative count a
        new row could not hold. Rows in key order: two batches never wait crosswise."""
        keys = sorted(self.deltas)
        table, columns = DailyProductSales._meta.db_table, self.KEY | self.COLUMNS
        given = rows.recordset("d", columns)
        self._execute(
            f"INSERT INTO {table} AS t ({', '.join(columns)}) "
            f"SELECT * FROM {given} ON CONFLICT (day, sku, currency) DO UPDATE SET "
            + self._sums("EXCLUDED"),
            [k for k in keys if self.deltas[k][0] >= 0],
        )
        self._execute(
            f"UPDATE {table} AS t SET {self._sums('d')} "
            f"FROM {given} "
            "WHERE t.day = d.day AND t.sku = d.sku AND t.currency = d.currency",
            [k for k in keys if self.deltas[k][0] < 0],
        )

    def _sums(self, source: str) -> str:
        return ", ".join(f"{c} = t.{c} + {source}.{c}" for c in self.COLUMNS)

    def _execute(self, sql: str, keys: list[tuple]) -> None:
        if not keys:
            return
        names = [*self.KEY, *self.COLUMNS]
        given = (zip(names, (*k, self.names[k], *self.deltas[k]), strict=True) for k in keys)
        with connection.cursor() as cursor:
            cursor.execute(sql, [rows.document(map(dict, given))])


def projection_reset() -> None:
    """Forget every figure, before rebuilding them from the order events."""
    DailyProductSales.objects.all().delete()
    SaleRecord.objects.all().delete()
