"""Many rows in one statement: one array parameter per column, turned into rows by unnest.

bulk_create writes a placeholder per row and field, so its statement's text, and the work
of building and parsing it, grows with the batch. `INSERT ... SELECT * FROM unnest(...)`
takes one array per column: the same short statement for one row as for five hundred.
"""

from collections.abc import Iterable, Sequence


def unnest(types: Iterable[str]) -> str:
    """The rows of one array parameter per column, of these PostgreSQL types, as an
    expression for FROM: `unnest(%s::uuid[], %s::date[])`."""
    return "unnest(" + ", ".join(f"%s::{kind}[]" for kind in types) + ")"


def columns(rows: Sequence[Sequence]) -> list[list]:
    """The rows as one list per column: the parameters of `unnest`."""
    return [list(column) for column in zip(*rows, strict=True)]
