from django.contrib import admin
from django.utils.text import Truncator

from messaging.personal import scrubbed
from messaging.personal_admin import PersonalFieldsAdmin

from . import delivery, services
from .models import Notification, Recipient, SentEmail, SentText


class ReadOnlyAdmin(PersonalFieldsAdmin, admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Where each notification's delivery stands; a failed one shows why it was given up."""

    personal_fields = ("to", "body")  # the body greets the customer by name
    free_text_fields = ("last_error",)  # a provider's refusal may quote the address

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

    @admin.display(description="last error")
    def error(self, notification: Notification) -> str:
        # A glimpse for the list, without the address it may quote; the page shows it whole
        # to staff who may see personal data.
        return Truncator(scrubbed(notification.last_error)).chars(80)

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
    personal_fields = ("to", "body")
    list_display = ["sent_at", "to", "subject", "message_id"]
    search_fields = ["to", "subject", "body", "message_id"]


@admin.register(SentText)
class SentTextAdmin(ReadOnlyAdmin):
    personal_fields = ("to", "body")
    list_display = ["sent_at", "to", "body", "idempotency_key"]
    search_fields = ["to", "body", "idempotency_key"]


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    personal_fields = ("name", "email", "phone")
    list_display = ["order_id", "name", "email", "phone"]
    search_fields = ["order_id", "email", "name"]
