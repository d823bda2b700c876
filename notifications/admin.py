from django.contrib import admin

from . import services
from .models import Notification, Recipient, SentEmail, SentText


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "order_id", "kind", "channel", "to", "status", "sent_at"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["order_id", "to", "correlation_id"]
    actions = ["resend"]

    @admin.action(description="Send again (SendEmail / SendText through Kafka)")
    def resend(self, request, queryset) -> None:
        for notification in queryset:
            services.notification_resend(notification=notification)
        self.message_user(request, f"Asked notifications to send {queryset.count()} again.")


@admin.register(SentEmail)
class SentEmailAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "to", "subject"]
    search_fields = ["to", "subject", "body"]


@admin.register(SentText)
class SentTextAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "to", "body"]
    search_fields = ["to", "body"]


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "name", "email", "phone"]
    search_fields = ["order_id", "email", "name"]
