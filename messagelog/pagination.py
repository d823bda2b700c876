"""Paging through a table of millions of rows without counting it on every page.

COUNT(*) over the whole message log reads every row. Here rows are counted only up to
a cap, which reads at most that many index entries; past it, the whole table's count is
PostgreSQL's estimate of its size (free, kept by ANALYZE), and a filtered list's count
is the cap. `exact` and `estimated` let the page say "about" or "more than".
"""

from functools import cached_property

from django.core.paginator import Paginator
from django.db import connection

COUNT_CAP = 10_000


class EstimatedCountPaginator(Paginator):
    def __init__(self, *args, cap: int = COUNT_CAP, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cap = cap
        self.exact = True  # False when `count` is an estimate or the cap
        self.estimated = False  # True when `count` is PostgreSQL's estimate

    @cached_property
    def count(self) -> int:
        counted = self.object_list[: self.cap + 1].count()
        if counted <= self.cap:
            return counted
        self.exact = False
        if not self.object_list.query.where:
            # Only trusted past the cap: an estimate may be stale, the capped count is not.
            estimate = table_estimate(self.object_list.model._meta.db_table)
            if estimate > self.cap:
                self.estimated = True
                return estimate
        return self.cap


def table_estimate(table: str) -> int:
    """PostgreSQL's row estimate for a table (as of its last ANALYZE); -1 if never analysed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return row[0] if row else -1
