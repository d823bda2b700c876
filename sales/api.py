"""GET /api/sales/: the sales figures, public like the /sales/ page, from the projection."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors


class SalesFiguresApi(APIView):
    # Public, and the same for everyone: no credentials are read, and the schema says so.
    authentication_classes = []
    permission_classes = [AllowAny]

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
        parameters=[FilterSerializer],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="days is not a whole number from 1 to 365."),
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
