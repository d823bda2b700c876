"""The platform's other tables, read-only: what was sent, handled, set aside or failed."""

from django.contrib import admin

from ..models import HandlingFailure, InboxEntry, OutboxMessage
from ..pagination import EstimatedCountPaginator
from . import display, filters
from .readonly import ReadOnlyAdmin


class LogTableAdmin(ReadOnlyAdmin):
    """Large, append-only tables: no full counts, no DISTINCT scans for filter choices."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    ordering = ["-id"]

    @admin.display(description="conversation")
    def conversation(self, row) -> str:
        return display.conversation_link(row.correlation_id)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(LogTableAdmin):
    list_display = ["id", "time", "kind", "type", "topic", "key", "conversation", "published_at"]
    list_filter = [filters.PublishedFilter, filters.KindFilter, filters.TopicFilter]
    search_fields = ["=correlation_id", "=message_id", "=key"]


@admin.register(InboxEntry)
class InboxEntryAdmin(LogTableAdmin):
    list_display = [
        "handled_at",
        "group",
        "type",
        "message_id",
        "conversation",
        "took",
        "duplicates",
    ]
    list_filter = [filters.GroupFilter, filters.TypeFilter]
    search_fields = ["=correlation_id", "=message_id"]

    @admin.display(description="took")
    def took(self, entry: InboxEntry) -> str:
        return display.duration(entry.handled_at - entry.started_at)


@admin.register(HandlingFailure)
class HandlingFailureAdmin(LogTableAdmin):
    list_display = ["failed_at", "group", "type", "attempt", "conversation", "error"]
    list_filter = [filters.GroupFilter, filters.TypeFilter]
    search_fields = ["=correlation_id", "=message_id"]
