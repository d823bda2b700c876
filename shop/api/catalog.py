"""The catalog, public: products for sale with what the warehouse last said about stock."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from .fields import Text
from .pagination import PageNumberPagination


class _ProductSerializer(serializers.Serializer):
    class CategorySerializer(serializers.Serializer):
        slug = serializers.SlugField()
        name = serializers.CharField()

        class Meta:
            ref_name = "ProductCategory"

    sku = serializers.CharField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    category = CategorySerializer()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    availability = serializers.IntegerField(
        source="available",
        allow_null=True,
        help_text="Units for sale as the warehouse last announced; null before it has.",
    )


class ProductListApi(APIView):
    # Public, and the same for everyone: no credentials are read, and the schema says so.
    authentication_classes = []
    permission_classes = [AllowAny]

    class Pagination(PageNumberPagination):
        page_size = 50

    pagination_class = Pagination

    class FilterSerializer(serializers.Serializer):
        q = Text(required=False, default="", allow_blank=True, help_text="Name, text or SKU.")
        category = serializers.SlugField(
            required=False, default="", allow_blank=True, help_text="Category slug."
        )

    class OutputSerializer(_ProductSerializer):
        class Meta:
            ref_name = "Product"

    @extend_schema(
        summary="Products for sale",
        parameters=[FilterSerializer],
        responses={
            200: OutputSerializer(many=True),
            400: OpenApiResponse(description="Bad filter or page number."),
            404: OpenApiResponse(description="No such page."),
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        products = selectors.catalog_with_availability(
            query=filters.validated_data["q"], category=filters.validated_data["category"]
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(products, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ProductDetailApi(APIView):
    # Public, and the same for everyone: no credentials are read, and the schema says so.
    authentication_classes = []
    permission_classes = [AllowAny]

    class OutputSerializer(_ProductSerializer):
        description = serializers.CharField()

        class Meta:
            ref_name = "ProductDetail"

    @extend_schema(
        summary="One product for sale",
        responses={200: OutputSerializer, 404: OpenApiResponse(description="Not for sale.")},
    )
    def get(self, request: Request, sku: str) -> Response:
        # PostgreSQL cannot even compare a text with a NUL character in it: no such product.
        item = None if "\x00" in sku else selectors.product_for_sale(sku=sku)
        if item is None:
            raise NotFound("No product with this SKU is for sale.")
        return Response(self.OutputSerializer(item).data)
