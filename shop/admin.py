from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Category, Order, OrderLine, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "active"]
    list_filter = ["active", "category"]
    search_fields = ["sku", "name"]
    prepopulated_fields = {"slug": ["name"]}


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "name", "unit_price", "quantity"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "placed_at",
        "customer_name",
        "email",
        "status",
        "total",
        "conversation",
    ]
    list_filter = ["status", "placed_at"]
    search_fields = ["id", "correlation_id", "email", "customer_name"]
    date_hierarchy = "placed_at"
    readonly_fields = ["conversation", *(f.name for f in Order._meta.fields)]
    inlines = [OrderLineInline]

    def has_add_permission(self, request) -> bool:
        return False  # orders are placed by PlaceOrder, never typed in

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an order ends by OrderCancelled, never by a vanished row

    @admin.display(description="conversation")
    def conversation(self, order: Order) -> str:
        """Every message of the order, from the BUY click on, in the message log's admin."""
        url = reverse("admin:messagelog_conversation", args=[order.correlation_id])
        return format_html('<a href="{}">every message of this order</a>', url)
