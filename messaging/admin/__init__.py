"""The operator's view of the platform, read-only: the message log and its tables, one
conversation on one screen, and the operations page."""

from . import conversation, log, operations, tables

__all__ = ["conversation", "log", "operations", "tables"]
