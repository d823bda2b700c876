"""The operator's view of the platform: read-only lists of what was sent, read and set aside."""

from django.contrib import admin

from .models import DeadLetter, InboxEntry, MessageRecord, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MessageRecord)
class MessageRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "time",
        "kind",
        "type",
        "source",
        "topic",
        "partition",
        "offset",
        "key",
        "correlation_id",
    ]
    list_filter = ["kind", "topic", "source", "type"]
    search_fields = ["=correlation_id", "=message_id", "=key"]
    show_full_result_count = False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "time", "kind", "type", "topic", "key", "published_at"]
    list_filter = ["kind", "topic", "type"]
    search_fields = ["=correlation_id", "=message_id", "=key"]
    show_full_result_count = False


@admin.register(InboxEntry)
class InboxEntryAdmin(ReadOnlyAdmin):
    list_display = ["handled_at", "group", "type", "message_id", "duplicates"]
    list_filter = ["group", "type"]
    search_fields = ["=correlation_id", "=message_id"]
    show_full_result_count = False


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "group",
        "reason",
        "topic",
        "partition",
        "offset",
        "type",
        "error",
    ]
    list_filter = ["group", "reason", "topic"]
    search_fields = ["=correlation_id", "=message_id", "error"]
