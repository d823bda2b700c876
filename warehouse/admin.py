from django import forms
from django.contrib import admin

from messaging.personal_admin import PersonalFieldsAdmin

from . import services
from .models import Reservation, ReservationLine, Stock


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    """A stock-take: on hand can be corrected here, through the service that announces the
    new level (StockLevelChanged); reservations change only through orders."""

    list_display = ["sku", "on_hand", "reserved", "available"]
    search_fields = ["sku"]
    fields = ["sku", "on_hand", "reserved"]
    readonly_fields = ["sku", "reserved"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if obj.on_hand < obj.reserved:
            raise ValueError("unreachable: the form refuses it")
        services.stock_set(sku=obj.sku, on_hand=obj.on_hand)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class StockTakeForm(form):
            def clean_on_hand(self):
                on_hand = self.cleaned_data["on_hand"]
                if self.instance.pk and on_hand < self.instance.reserved:
                    raise forms.ValidationError(
                        f"{self.instance.reserved} are reserved for orders: on hand cannot be less."
                    )
                return on_hand

        return StockTakeForm


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    extra = 0
    readonly_fields = ["sku", "quantity"]
    can_delete = False


@admin.register(Reservation)
class ReservationAdmin(PersonalFieldsAdmin, admin.ModelAdmin):
    personal_fields = ("recipient", "address")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    list_display = ["order_id", "status", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["order_id"]
    readonly_fields = ["order_id", "status", "created_at", "updated_at"]
    inlines = [ReservationLineInline]
