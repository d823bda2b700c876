from django.contrib import admin

from .models import DailyProductSales, SaleRecord


@admin.register(DailyProductSales)
class DailyProductSalesAdmin(admin.ModelAdmin):
    list_display = [
        "day",
        "sku",
        "name",
        "orders",
        "units",
        "revenue",
        "cancelled_orders",
        "cancelled_units",
    ]
    list_filter = ["day"]
    search_fields = ["sku", "name"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SaleRecord)
class SaleRecordAdmin(DailyProductSalesAdmin):
    list_display = ["order_id", "day", "cancelled"]
    list_filter = ["day", "cancelled"]
    search_fields = ["order_id"]
