"""The operator's view of the platform: the message log and its tables (read-only), one
conversation on one screen, the operations page, and the dead letters' retry and skip."""

from . import conversation, dead_letters, log, operations, tables

__all__ = ["conversation", "dead_letters", "log", "operations", "tables"]
