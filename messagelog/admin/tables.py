"""The runtime's other tables: what was sent (Kafka's refused rows published again or
skipped), handled or failed. Dead letters have their own module, dead_letters.py."""

from django.contrib import admin, messages

from messaging.models import HandlingFailure, InboxEntry, OutboxMessage
from messaging.outbox import publish_again as outbox_publish_again
from messaging.outbox import skip as outbox_skip

from ..pagination import EstimatedCountPaginator
from . import display, filters
from .personal import viewer_of
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
    list_display = [
        "id", "time", "kind", "type", "topic", "key", "conversation", "published_at", "refusal",
    ]  # fmt: skip
    list_filter = [filters.PublishedFilter, filters.KindFilter, filters.TopicFilter]
    search_fields = ["=correlation_id", "=message_id", "=key"]
    actions = ["publish_again", "skip"]
    exclude = ["payload"]
    readonly_fields = ["shown_payload"]

    def has_act_permission(self, request) -> bool:
        return request.user.has_perm("messaging.change_outboxmessage")

    @admin.display(description="payload")
    def shown_payload(self, row: OutboxMessage) -> str:
        return display.pretty_json(viewer_of(row).payload(row.type, row.payload))

    @admin.action(description="Publish again (refused rows)", permissions=["act"])
    def publish_again(self, request, queryset):
        """After the cause is fixed (a larger MAX_RECORD_BYTES, say): the relay tries again."""
        rows = list(queryset.refused())
        outbox_publish_again(rows)
        for row in rows:
            self.log_change(request, row, "Publish again: back in the relay's queue")
        self.message_user(request, f"{len(rows)} back in the relay's queue.", messages.SUCCESS)

    @admin.action(description="Skip (refused rows): never publish them", permissions=["act"])
    def skip(self, request, queryset):
        rows = list(queryset.refused())
        outbox_skip(rows, by=request.user.get_username())
        for row in rows:
            self.log_change(request, row, "Skipped: never published; its key's messages go on")
        self.message_user(request, f"{len(rows)} skipped.", messages.SUCCESS)


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
    list_display = ["failed_at", "group", "type", "attempt", "conversation", "shown_error"]
    list_filter = [filters.GroupFilter, filters.TypeFilter]
    search_fields = ["=correlation_id", "=message_id"]
    exclude = ["error", "traceback"]
    readonly_fields = ["shown_error", "shown_traceback"]

    @admin.display(description="error")
    def shown_error(self, failure: HandlingFailure) -> str:
        return viewer_of(failure).text(failure.error)

    @admin.display(description="traceback")
    def shown_traceback(self, failure: HandlingFailure) -> str:
        return display.pretty_text(viewer_of(failure).text(failure.traceback))
