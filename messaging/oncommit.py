"""Work for after the commit, gathered over a batch: one call for what several handlings asked.

A handler that starts something outside the database (a Celery task) registers it with
`transaction.on_commit`, so nothing starts for work that rolled back. Handled in a batch
(messaging.handling), a poll's records share one transaction: `together(flush, items)`
then hands the items of every handling of the batch to `flush` in one call once the batch
commits (the notifications worker sends one delivery task for the emails and texts of
several orders, not one per order). Outside a batch it is `on_commit(flush(items))`.

Why items are gathered by callbacks of their own rather than added to a list at once: a
handling may run in a savepoint (a batch handled again record by record after a failure),
and Django drops the callbacks registered in a savepoint that rolls back. Each handling's
items reach the batch's list only by such a callback, so what a failed handling asked for
is dropped with the rest of its work; the batch's `flush` is registered after every
handling's, and so runs after them.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial

from django.db import transaction

Flush = Callable[[list], None]

_gathering: ContextVar[dict[Flush, list] | None] = ContextVar("gathering", default=None)


@contextmanager
def gathering() -> Iterator[None]:
    """Inside an atomic block: what `together` is given meanwhile goes to each flush in one
    call, once the outermost transaction commits. Nothing, if it rolls back."""
    gathered: dict[Flush, list] = {}
    token = _gathering.set(gathered)
    try:
        yield
        transaction.on_commit(partial(_flush, gathered))
    finally:
        _gathering.reset(token)


def together(flush: Flush, items: Iterable) -> None:
    """`flush(items)` once the transaction commits, with the items of the whole batch when
    a batch is being gathered (`gathering`), in the order they were given. Items are
    gathered by `flush` itself: pass a module's function, not a new lambda each time."""
    items = list(items)
    if not items:
        return
    gathered = _gathering.get()
    if gathered is None:
        transaction.on_commit(partial(flush, items))
    else:
        transaction.on_commit(partial(_gather, gathered, flush, items))


def _gather(gathered: dict[Flush, list], flush: Flush, items: list) -> None:
    gathered.setdefault(flush, []).extend(items)


def _flush(gathered: dict[Flush, list]) -> None:
    for flush, items in gathered.items():
        flush(items)
