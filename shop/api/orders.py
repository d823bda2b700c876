"""A customer's orders: list, one order with its conversation, cancel.

Someone else's order does not exist for you: 404, never 403, so ids cannot be probed.
"""

from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .. import selectors, services
from ..models import Order
from .errors import Conflict
from .fields import Text
from .order_place import OrderPlaceApi
from .pagination import CursorPagination

STATUSES = [selectors.REQUESTED, selectors.REJECTED, *Order.Status.values]


class OrderListApi(APIView):
    permission_classes = [IsAuthenticated]

    class Pagination(CursorPagination):
        # A cursor, not page numbers: no COUNT over the table, and stable while orders arrive.
        ordering = "-placed_at"
        page_size = 20
        page_size_query_param = "page_size"
        max_page_size = 100

    pagination_class = Pagination

    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        status = serializers.ChoiceField(choices=Order.Status.values)
        status_reason = serializers.CharField()
        total = serializers.DecimalField(max_digits=12, decimal_places=2)
        placed_at = serializers.DateTimeField()
        url = serializers.HyperlinkedIdentityField(
            view_name="shop-api:order", lookup_url_kwarg="order_id"
        )

        class Meta:
            ref_name = "OrderSummary"

    @extend_schema(
        operation_id="orders_list",
        summary="Your orders, newest first",
        responses={
            200: OutputSerializer(many=True),
            400: OpenApiResponse(description="page_size is not a whole number from 1 to 100."),
            401: OpenApiResponse(description="Not signed in."),
            404: OpenApiResponse(description="No such page: the cursor is not one we gave."),
        },
    )
    def get(self, request: Request) -> Response:
        orders = selectors.orders_of_account(account_id=request.user.id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(orders, request, view=self)
        answer = self.OutputSerializer(page, many=True, context={"request": request})
        return paginator.get_paginated_response(answer.data)


class OrdersApi(APIView):
    # /api/orders/ holds two operations, each its own class: GET lists, POST places. A
    # request is handed to its operation's view, with that view's own permissions, throttle
    # and serializers; `get`, `post`, `pagination_class` and `parser_classes` are repeated here
    # only so that the OpenAPI schema and OPTIONS describe both. (A comment, not a docstring:
    # the schema would show a docstring to API users.)

    permission_classes = [IsAuthenticated]
    operations = {
        "GET": OrderListApi.as_view(),
        "HEAD": OrderListApi.as_view(),
        "POST": OrderPlaceApi.as_view(),
    }
    get = OrderListApi.get
    post = OrderPlaceApi.post
    pagination_class = OrderListApi.pagination_class
    parser_classes = OrderPlaceApi.parser_classes

    def dispatch(self, request, *args, **kwargs):
        operation = self.operations.get(request.method)
        if operation is None:  # OPTIONS, or a 405 with DRF's usual answer
            return super().dispatch(request, *args, **kwargs)
        response = operation(request, *args, **kwargs)
        response["Allow"] = ", ".join(self.allowed_methods)  # not only the operation's own
        return response


class OrderDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            sku = serializers.CharField()
            name = serializers.CharField(allow_null=True)
            quantity = serializers.IntegerField()
            unit_price = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)

            class Meta:
                ref_name = "OrderLine"

        class MessageSerializer(serializers.Serializer):
            time = serializers.DateTimeField()
            kind = serializers.ChoiceField(choices=["command", "event"])
            type = serializers.CharField(help_text='"<owning app>.<Name>", e.g. shop.OrderPlaced')
            source = serializers.CharField(help_text="The app that owns the message.")
            state = serializers.CharField(
                help_text='"on Kafka", "published, not yet in the log" or "waiting in the outbox".'
            )
            handled_by = serializers.ListField(
                child=serializers.CharField(), help_text="Consumer groups that handled it."
            )
            message_id = serializers.UUIDField()

            class Meta:
                ref_name = "OrderMessage"

        id = serializers.UUIDField()
        correlation_id = serializers.UUIDField()
        status = serializers.ChoiceField(
            choices=STATUSES,
            help_text="requested: the shop has not handled the request yet; rejected: it "
            "refused it (status_reason says why) and no order exists.",
        )
        status_reason = serializers.CharField()
        cancellation_refusal = serializers.CharField(
            help_text="Why your last request to cancel was refused (too late, already "
            'asked); "" if none was. The status is then as it was.'
        )
        lines = LineSerializer(many=True)
        total = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
        currency = serializers.CharField(
            allow_null=True,
            help_text="ISO 4217 code of the total and every unit_price; null until placed.",
        )
        carrier = serializers.CharField()
        tracking_number = serializers.CharField()
        placed_at = serializers.DateTimeField(allow_null=True)
        timeline = MessageSerializer(
            many=True,
            help_text="The order's conversation, each message once: causes before their "
            "effects, otherwise oldest first.",
        )

        class Meta:
            ref_name = "OrderDetail"

    @extend_schema(
        summary="One of your orders and its conversation",
        description="Right after placing it, while the shop has not created the order yet, "
        "its status is `requested`; if the shop refuses the request, `rejected`.",
        responses={
            200: OutputSerializer,
            401: OpenApiResponse(description="Not signed in."),
            404: OpenApiResponse(description="No such order among yours."),
        },
    )
    def get(self, request: Request, order_id: UUID) -> Response:
        found = selectors.order_detail_for_account(order_id=order_id, account_id=request.user.id)
        if found is None:
            raise NotFound("No such order among yours.")
        return Response(self.OutputSerializer(found).data)


class OrderCancelApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = OrderPlaceApi.parser_classes  # JSON, as the schema says

    class InputSerializer(serializers.Serializer):
        reason = Text(max_length=200, required=False)

        class Meta:
            ref_name = "OrderCancelInput"

    class OutputSerializer(serializers.Serializer):
        order_id = serializers.UUIDField()
        detail = serializers.CharField()
        url = serializers.URLField(
            help_text="The order: its status, or its cancellation_refusal, shows the outcome."
        )

        class Meta:
            ref_name = "OrderCancelRequested"

    @extend_schema(
        summary="Ask to cancel one of your orders",
        description="Accepted means asked: the shop cancels at once before the stock is "
        "reserved, otherwise only if the warehouse can still stop the parcel. The order's "
        "status shows the outcome; if the cancellation is refused after all (the parcel "
        "left meanwhile), the order's `cancellation_refusal` says why.",
        request=InputSerializer,
        responses={
            202: OutputSerializer,
            400: OpenApiResponse(description="Invalid input: a message per field."),
            401: OpenApiResponse(description="Not signed in."),
            404: OpenApiResponse(description="No such order among yours."),
            409: OpenApiResponse(description="Too late to cancel, or not placed yet."),
        },
    )
    def post(self, request: Request, order_id: UUID) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = selectors.order_of_account(order_id=order_id, account_id=request.user.id)
        if order is None:
            raise _not_placed(order_id, account_id=request.user.id)
        try:
            services.order_cancel_request(order=order, **body.validated_data)
        except services.OrderNotCancellable as refusal:
            raise Conflict(str(refusal)) from None
        answer = self.OutputSerializer(
            {
                "order_id": order.id,
                "detail": "Cancellation requested.",
                "url": reverse("shop-api:order", args=[order.id], request=request),
            }
        )
        return Response(answer.data, status=status.HTTP_202_ACCEPTED)


def _not_placed(order_id: UUID, *, account_id: int) -> Exception:
    """Why there is no order to cancel: it is not yours, or the shop has not created it."""
    requested = selectors.order_requested_by_account(order_id=order_id, account_id=account_id)
    if requested is None:
        return NotFound("No such order among yours.")
    if requested.status == selectors.REJECTED:
        return Conflict("The shop refused this order, so there is nothing to cancel.")
    return Conflict("The shop is still placing this order; try again in a moment.")
