"""The event API, published: an AsyncAPI 3.0 document generated from the code.

Served at /api/asyncapi.json (and .yaml), and read by people at /api/events/; every
record's `ce_dataschema` header points at its payload's schema in it.
"""

import functools

from .document import build


@functools.cache
def document() -> dict:
    """The document, built once per process: contracts and consumer groups are registered
    at start-up and do not change while it runs. Callers must not modify it."""
    return build()


__all__ = ["build", "document"]
