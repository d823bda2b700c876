"""Writes gathered over a batch: one statement for what several handlings wrote.

A poll's records share one transaction (messaging.handling). A handler whose writes can be
made together (sales adds each order to its day's figures) hands them to
`together(write, items)`: in a batch handled optimistically, the items of every record
reach `write` in one call, in the order they were given, at the end of the batch's
transaction, before its inbox rows; anywhere else, `write(items)` runs at once.

Why only there: an optimistic batch keeps all of its records or none (a failure undoes the
whole try, and the batch is handled again, each record in a savepoint of its own). A write
asked for inside a savepoint could be rolled back alone with it, so it is never held
back past one: a record handled in its own savepoint, or any savepoint opened since the
batch began, writes at once, unless that would put it ahead of items gathered for the
same write (`Overtaking`: the try is undone). A `write` that fails at the end undoes the
try (`WriteFailed`), and the record that caused it then fails alone, in its savepoint.

The sibling of messaging.oncommit, which gathers what starts after the commit.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection

Write = Callable[[list], None]


class WriteFailed(Exception):
    """A gathered write failed at the end of the batch: nothing of the try can be kept."""


class Overtaking(Exception):
    """A write asked for inside a savepoint, written at once, would go ahead of items of
    the same write gathered before it (the outbox publishes in the order written). Raised
    in the handler that asked, it undoes the optimistic try; handled again record by
    record, everything is written at once, in the order asked."""


class _Gathered:
    def __init__(self) -> None:
        self.depth = _savepoints()
        self.items: dict[Write, list] = {}


_gathering: ContextVar[_Gathered | None] = ContextVar("beforecommit", default=None)


@contextmanager
def gathering() -> Iterator[None]:
    """Inside the batch's atomic block: what `together` is given meanwhile outside any
    savepoint goes to each `write` in one call when the block inside this one ends well."""
    gathered = _Gathered()
    token = _gathering.set(gathered)
    try:
        yield
    finally:
        _gathering.reset(token)
    for write, items in gathered.items.items():
        try:
            write(items)
        except Exception as exc:
            raise WriteFailed(f"{write.__qualname__}: {type(exc).__name__}: {exc}") from exc


def together(write: Write, items: Iterable) -> None:
    """`write(items)`, with the items of the whole batch when one is being gathered
    (`gathering`), else now. Items are gathered by `write` itself: pass a module's
    function, not a new lambda each time."""
    items = list(items)
    if not items:
        return
    gathered = _gathering.get()
    if gathered is None:
        write(items)
    elif _savepoints() == gathered.depth:
        gathered.items.setdefault(write, []).extend(items)
    elif write in gathered.items:
        raise Overtaking(f"{write.__qualname__} in a savepoint, after items gathered for it")
    else:
        write(items)


def _savepoints() -> int:
    # Django keeps None for an atomic block that opened no savepoint (savepoint=False).
    return sum(1 for sid in connection.savepoint_ids if sid)
