"""POST /api/orders/: BUY over HTTP. Validates, records PlaceOrder, answers 202 Accepted.

Nothing is written unless the whole request is valid. With an `Idempotency-Key` header a
retried request gets the first answer back and places nothing; the same key with a
different body is refused with 422.
"""

import re

import pydantic
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .. import selectors, services
from ..contracts import MAX_LINES, MAX_QUANTITY, Customer, RequestedLine, RequestedLines
from .errors import Unprocessable, contract
from .fields import ContractSerializer, ItemList, Text
from .throttling import ScopedThrottle

# As the Customer contract says (stricter than Django's EmailField: a dot in the domain).
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^\+?[0-9 ()-]{6,20}$"


class OrderPlaceApi(APIView):
    permission_classes = [IsAuthenticated]
    # JSON only: a form cannot carry the nested lines and customer, so the schema must not
    # offer form encodings that every request would fail in.
    parser_classes = [JSONParser]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "order_placement"  # rate: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

    class InputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            sku = Text(max_length=40)
            quantity = serializers.IntegerField(
                min_value=1,
                max_value=MAX_QUANTITY,
                error_messages={
                    "invalid": "Enter the quantity as a whole number.",
                    "min_value": "Choose at least 1.",
                    "max_value": f"At most {MAX_QUANTITY} of one product per order.",
                },
            )

            class Meta:
                ref_name = "OrderPlaceLine"
                list_serializer_class = ItemList

        class CustomerSerializer(ContractSerializer):
            """Who orders and where it goes: personal data (x-personal), erased on request."""

            name = Text(max_length=100)
            email = serializers.EmailField(max_length=254)
            phone = serializers.RegexField(
                PHONE,
                max_length=20,
                # Matched as sent, as the schema's pattern says: trimmed first, " (-33- "
                # (which the pattern allows) would become too short and be refused.
                trim_whitespace=False,
                error_messages={
                    "invalid": "Enter a phone number: digits, spaces, + ( ) -, 6 to 20."
                },
            )
            address = Text(max_length=500)

            class Meta:
                ref_name = "OrderPlaceCustomer"
                contract = Customer  # whose personal fields the schema marks

            def validate_email(self, email: str) -> str:
                if not re.fullmatch(EMAIL, email):  # after Django's check: one message at most
                    raise serializers.ValidationError("Enter a valid email address.")
                return email

        lines = LineSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
        customer = CustomerSerializer()

        class Meta:
            ref_name = "OrderPlaceInput"

        def validate_lines(self, lines: list[dict]) -> list[RequestedLine]:
            for_sale = selectors.skus_for_sale(line["sku"] for line in lines)
            # Keyed by line index, as DRF reports the lines' own field errors.
            errors = {
                index: {"sku": ["No product with this SKU is for sale."]}
                for index, line in enumerate(lines)
                if line["sku"] not in for_sale
            }
            requested = [contract(RequestedLine, line) for line in lines]
            try:
                PLACE_ORDER_LINES.validate_python(tuple(requested))
            except pydantic.ValidationError as invalid:
                for error in invalid.errors():
                    if error["type"] == "sku_on_two_lines":
                        for index in error["ctx"]["lines"]:
                            errors.setdefault(index, {"sku": [ON_ANOTHER_LINE]})
                    else:  # a rule of PlaceOrder's that the serializer does not mirror
                        errors.setdefault("non_field_errors", []).append(error["msg"])
            if errors:
                raise serializers.ValidationError(errors)
            return requested

        def validate_customer(self, customer: dict) -> Customer:
            return contract(Customer, customer)

    class HeadersSerializer(serializers.Serializer):
        # A key is opaque: kept as sent, spaces included.
        idempotency_key = serializers.CharField(
            min_length=1, max_length=200, trim_whitespace=False, required=False
        )

    class OutputSerializer(serializers.Serializer):
        order_id = serializers.UUIDField()
        correlation_id = serializers.UUIDField(help_text="Every message about this order.")
        status = serializers.ChoiceField(choices=["requested"])
        url = serializers.URLField(help_text="The order: what the shop made of the request.")

        class Meta:
            ref_name = "OrderPlaced"

    @extend_schema(
        operation_id="orders_place",
        summary="Place an order",
        description="Accepted means requested: the shop creates the order (or refuses it) "
        "through Kafka, and the URL in Location shows how it goes.",
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "minLength": 1, "maxLength": 200},
                OpenApiParameter.HEADER,
                description="Send the same key when retrying: the order is placed once. A "
                "key is remembered for at least a day (RETAIN_IDEMPOTENCY_KEYS, 7 days by "
                "default); a retry after that places a new order.",
            )
        ],
        responses={
            202: OutputSerializer,
            400: OpenApiResponse(description="Invalid input: a message per field."),
            401: OpenApiResponse(description="Not signed in."),
            422: OpenApiResponse(description="The key was used for a different request."),
            429: OpenApiResponse(description="Too many orders; wait as Retry-After says."),
        },
    )
    def post(self, request: Request) -> Response:
        headers = self.HeadersSerializer(
            data={"idempotency_key": request.headers["Idempotency-Key"]}
            if "Idempotency-Key" in request.headers
            else {}
        )
        headers.is_valid(raise_exception=True)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        placed, new = _request(
            account_id=request.user.id,
            idempotency_key=headers.validated_data.get("idempotency_key"),
            **body.validated_data,
        )
        url = reverse("shop-api:order", args=[placed.order_id], request=request)
        answer = self.OutputSerializer(
            {
                "order_id": placed.order_id,
                "correlation_id": placed.correlation_id,
                "status": "requested",
                "url": url,
            }
        )
        replayed = {} if new else {"Idempotent-Replayed": "true"}
        return Response(
            answer.data, status=status.HTTP_202_ACCEPTED, headers={"Location": url, **replayed}
        )


# PlaceOrder's own lines rule, so that the API refuses what the command would (e.g. a
# product on two lines) before anything is written, and says which line.
PLACE_ORDER_LINES = pydantic.TypeAdapter(RequestedLines)
ON_ANOTHER_LINE = "This product is on another line already."


def _request(*, idempotency_key: str | None, **order) -> tuple[services.OrderRequest, bool]:
    """The order request and whether it is new (not a retry answered from its key)."""
    if idempotency_key is None:
        return services.order_request(**order), True
    try:
        return services.order_request_once(idempotency_key=idempotency_key, **order)
    except services.IdempotencyKeyReused as refusal:
        raise Unprocessable(str(refusal)) from None
