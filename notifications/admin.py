from django.contrib import admin
from django.utils.text import Truncator

from . import delivery, services
from .models import Notification, Recipient, SentEmail, SentText


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Where each notification's delivery stands; a failed one shows why it was given up."""

    list_display = [
        "created_at",
        "order_id",
        "kind",
        "channel",
        "to",
        "status",
        "attempts",
        "error",
        "dedup_key",
        "sent_at",
    ]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["order_id", "to", "correlation_id", "dedup_key"]
    actions = ["retry", "resend"]

    @admin.display(description="last error", ordering="last_error")
    def error(self, notification: Notification) -> str:
        return Truncator(notification.last_error).chars(80)

    @admin.action(description="Deliver failed ones again (same deduplication key)")
    def retry(self, request, queryset) -> None:
        retried = delivery.notifications_retry(ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"Delivering {retried} failed notification(s) again.")

    @admin.action(description="Send again as a new message (SendEmail / SendText through Kafka)")
    def resend(self, request, queryset) -> None:
        asked = [services.notification_resend(notification=n) for n in queryset]
        sent = sum(1 for metadata in asked if metadata is not None)
        self.message_user(request, f"Asked notifications to send {sent} again.")
        if sent < len(asked):
            self.message_user(
                request, f"{len(asked) - sent} not sent again: their customer was erased."
            )


@admin.register(SentEmail)
class SentEmailAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "to", "subject", "message_id"]
    search_fields = ["to", "subject", "body", "message_id"]


@admin.register(SentText)
class SentTextAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "to", "body", "idempotency_key"]
    search_fields = ["to", "body", "idempotency_key"]


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "name", "email", "phone"]
    search_fields = ["order_id", "email", "name"]
