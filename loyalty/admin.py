from django.contrib import admin

from messaging.personal_admin import PersonalFieldsAdmin

from .models import Award, ErasedOrder


class ReadOnlyAdmin(admin.ModelAdmin):
    """Points change only through the order facts: the admin looks, never edits."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Award)
class AwardAdmin(PersonalFieldsAdmin, ReadOnlyAdmin):
    # The customer's email, masked for staff without messaging.view_personal_data, who
    # cannot search by it either.
    personal_fields = ("email",)
    list_display = ["order_id", "points", "total", "currency", "placed_at", "cancelled"]
    list_filter = ["cancelled"]
    # Exact matches only: an order id, or the whole email a customer asks about.
    search_fields = ["=order_id", "=email"]


@admin.register(ErasedOrder)
class ErasedOrderAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "erased_at"]
    search_fields = ["=order_id"]
