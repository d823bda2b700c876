"""GET /api/sales/: the sales figures of the /sales/ page, from the projection.

For staff with the sales permission; open to anyone in the demo (sales.access).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import access, selectors


class SalesFiguresApi(APIView):
    def get_permissions(self):
        # Read per request, so the schema (which asks the same) describes the running mode.
        return [AllowAny() if access.figures_are_public() else access.CanSeeFigures()]

    class FilterSerializer(serializers.Serializer):
        days = serializers.IntegerField(
            min_value=1, max_value=365, default=30, help_text="The last N days, today included."
        )
        currency = serializers.RegexField(
            r"^[A-Z]{3}$",
            required=False,
            error_messages={"invalid": "Give an ISO 4217 code of three capital letters, e.g. EUR."},
            help_text="ISO 4217 code: the figures of the sales made in it (default: the "
            "shop's currency). Amounts in two currencies are never added up.",
        )

    class OutputSerializer(serializers.Serializer):
        class ProductSerializer(serializers.Serializer):
            sku = serializers.CharField()
            name = serializers.CharField()
            orders = serializers.IntegerField()
            units = serializers.IntegerField(help_text="Net of cancellations.")
            revenue = serializers.DecimalField(max_digits=14, decimal_places=2)
            cancelled_orders = serializers.IntegerField()
            cancelled_units = serializers.IntegerField()

            class Meta:
                ref_name = "SalesByProduct"

        class DaySerializer(serializers.Serializer):
            day = serializers.DateField()
            units = serializers.IntegerField()
            revenue = serializers.DecimalField(max_digits=14, decimal_places=2)
            cancelled_orders = serializers.IntegerField()

            class Meta:
                ref_name = "SalesByDay"

        days = serializers.IntegerField()
        currency = serializers.CharField(help_text="ISO 4217 code of every revenue figure.")
        currencies = serializers.ListField(
            child=serializers.CharField(),
            help_text="Every currency sold in over the period, the shop's own first.",
        )
        products = ProductSerializer(many=True, help_text="Highest revenue first.")
        by_day = DaySerializer(many=True, help_text="Every day of the period, oldest first.")

        class Meta:
            ref_name = "SalesFigures"

    @extend_schema(
        summary="Sales per product and per day",
        description=(
            "Revenue is business data: for accounts with the permission "
            f"`{access.PERMISSION}` (staff granted it, and superusers). The demo "
            "(SHOP_DEMO) opens the figures to anyone."
        ),
        parameters=[FilterSerializer],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="days is not a whole number from 1 to 365."),
            401: OpenApiResponse(description="No credentials (outside the demo)."),
            403: OpenApiResponse(description=f"The account lacks `{access.PERMISSION}`."),
        },
    )
    def get(self, request: Request) -> Response:
        # DRF reads a blank query parameter as "not given"; `?days=` is a mistake to say.
        if request.query_params.get("days") == "":
            raise serializers.ValidationError({"days": ["Give a whole number from 1 to 365."]})
        if request.query_params.get("currency") == "":
            raise serializers.ValidationError({"currency": ["Give an ISO 4217 code, e.g. EUR."]})
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        days = filters.validated_data["days"]
        currencies = selectors.currencies(days=days)
        currency = filters.validated_data.get("currency", currencies[0])
        figures = {
            "days": days,
            "currency": currency,
            "currencies": currencies,
            "products": selectors.figures_by_product(days=days, currency=currency),
            "by_day": selectors.figures_by_day(days=days, currency=currency),
        }
        return Response(self.OutputSerializer(figures).data)
