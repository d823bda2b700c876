"""The soak's report: each sample's counts under their own table, the boundedness verdict
per table, and the report naming the table that grew (benchmarks/soak.py)."""

import pytest
from django.db import connection

from benchmarks import soak

ZERO = dict.fromkeys(soak.TABLES, 0)


def sample(t: float, *, outbox=0, handling_failures=0, orders=0) -> dict:
    rows = {"outbox": outbox, "handling failures": handling_failures, "orders (not purged)": orders}
    return {"t": t, "placed": 0} | ZERO | rows


def test_counts_are_read_by_the_label_each_row_carries_whatever_their_order():
    # PostgreSQL returns a UNION ALL's rows in no promised order (a Parallel Append returns
    # the costliest count first): read by position, the orders' count became dead letters.
    expected = {label: 10 * (i + 1) for i, label in enumerate(soak.TABLES)}
    rows = list(reversed(expected.items()))

    assert soak.by_label(rows) == expected
    assert list(soak.by_label(rows)) == list(soak.TABLES)


def test_counts_missing_a_table_are_refused():
    with pytest.raises(ValueError, match="dead letters"):
        soak.by_label([(label, 0) for label in soak.TABLES if label != "dead letters"])


def test_only_the_table_that_grows_is_called_unbounded():
    samples = [
        sample(t, outbox=100, handling_failures=200 * (t + 1), orders=10_004) for t in range(10)
    ]

    assert soak.unbounded_tables(samples) == ["handling failures"]


def test_the_report_reads_each_tables_own_column_and_names_the_unbounded_one():
    samples = [
        sample(0, outbox=10, handling_failures=100, orders=5),
        sample(1, outbox=30, handling_failures=16_557, orders=10_004),
        sample(2, outbox=20, handling_failures=9_242, orders=10_004),
    ]
    data = {
        "parameters": {"retain": 20, "retain_log": 30, "interval": 10.0},
        "orders": 10_000,
        "placing_seconds": 1.0,
        "seconds": 2.0,
        "orders_per_second": 1.0,
        "buy_p99_ms": 1.0,
        "samples": samples,
        "max_rows": soak.max_rows(samples),
        "unbounded": ["handling failures"],
        "purge": {
            "runs": 1,
            "seconds": 1.0,
            "share_of_wall_time": 0.5,
            "longest_run_seconds": 1.0,
            "rows_per_second": 1,
            "deleted": {"outbox": 7},
        },
        "checks": {"no dead letters": True, soak.BOUNDED: False},
    }

    text = soak.markdown(data)

    assert "| dead letters | 0 | 0 | 0 | yes |" in text
    assert "| orders (not purged) | 10,004 | 10,004 | — | — |" in text
    assert "| handling failures | 16,557 | 9,242 | 0 | **no** |" in text
    assert "| outbox | 30 | 20 | 7 | yes |" in text
    assert "- table counts bounded: **no** (not bounded: handling failures)" in text


@pytest.mark.django_db
def test_counts_match_their_tables_when_postgresql_counts_them_in_parallel():
    # A Parallel Append runs the costliest count first and its leader the cheapest: in
    # neither order are these tables named (read by position, the counts came out
    # 20,000, 40,000, 60,000, 80,000).
    sizes = {"probe 1": 40_000, "probe 2": 80_000, "probe 3": 20_000, "probe 4": 60_000}
    tables = {label: "soak_" + label.replace(" ", "_") for label in sizes}
    with connection.cursor() as cursor:
        for label, table in tables.items():
            cursor.execute(f"CREATE TABLE {table} AS SELECT generate_series(1, {sizes[label]}) i")
            cursor.execute(f"ANALYZE {table}")
        for setting in (
            "parallel_setup_cost",
            "parallel_tuple_cost",
            "min_parallel_table_scan_size",
        ):
            cursor.execute(f"SET LOCAL {setting} = 0")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 2")

        assert soak.counts(tables) == sizes
