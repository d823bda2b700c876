from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from messaging.personal_admin import PersonalFieldsAdmin

from . import services
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
class OrderAdmin(PersonalFieldsAdmin, admin.ModelAdmin):
    # The person, and the reason a cancelled order gives: it may be the customer's own words.
    personal_fields = (
        "customer_name",
        "email",
        "phone",
        "address",
        "account",
        "status_reason",
    )
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
    actions = ["erase_customers"]

    def has_add_permission(self, request) -> bool:
        return False  # orders are placed by PlaceOrder, never typed in

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an order ends by OrderCancelled, never by a vanished row

    @admin.display(description="conversation")
    def conversation(self, order: Order) -> str:
        """Every message of the order, from the BUY click on, in the message log's admin."""
        url = reverse("admin:messagelog_conversation", args=[order.correlation_id])
        return format_html('<a href="{}">every message of this order</a>', url)

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("shop.erase_customer")

    @admin.action(
        description="Erase these orders' customers (every order of each, in every app)",
        permissions=["erase"],
    )
    def erase_customers(self, request, queryset):
        emails = sorted({order.email.lower() for order in queryset})
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/shop/order/erase_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": "Erase these customers?",
                    "orders": queryset,
                    "customers": len(emails),
                    "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                    "select_across": request.POST.get("select_across", "0"),
                },
            )
        erased, in_progress = [], []
        for email in emails:
            erasure = services.customer_erase(email=email)
            erased += erasure.erased
            in_progress += erasure.in_progress
        for order in Order.objects.filter(id__in=erased):
            self.log_change(request, order, "Customer erased (CustomerErased sent)")
        self.message_user(
            request,
            f"Erased the customer of {len(erased)} order(s); every app erases its copy when it "
            "handles CustomerErased.",
            messages.SUCCESS,
        )
        if in_progress:
            self.message_user(
                request,
                f"{len(in_progress)} order(s) are still on their way and were left as they "
                "are: erase again once they are dispatched or cancelled.",
                messages.WARNING,
            )
        return None
