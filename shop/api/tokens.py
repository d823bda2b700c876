from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from .. import login_limits
from .fields import Text
from .throttling import ScopedThrottle


class TokenObtainApi(ObtainAuthToken):
    # DRF's token view, with the limits on password guesses that DRF leaves out: a request
    # rate per client address, and the login pages' count of failures per address and per
    # username (login_limits), so guesses cannot move to the API to escape it. The caller
    # proves who they are with the username and password in the body, so no other
    # authentication applies, and the schema then shows the operation as open to anyone.
    # (A comment, not a docstring: the schema would show a docstring to API users.)

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "token"

    class InputSerializer(AuthTokenSerializer):
        # DRF's fields, with a schema as strict as DRF's checks. A password is taken as typed.
        username = Text(label="Username", write_only=True)
        password = Text(
            label="Password",
            style={"input_type": "password"},
            trim_whitespace=False,
            write_only=True,
        )

        class Meta:
            ref_name = "TokenCredentials"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

        class Meta:
            ref_name = "Token"

    serializer_class = InputSerializer

    @extend_schema(
        summary="Get your API token",
        description="Send it as `Authorization: Token <token>`.",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Too many attempts; wait as Retry-After says."),
        },
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        data = request.data if hasattr(request.data, "get") else {}  # a JSON list, say
        username = data.get("username")
        username = username if isinstance(username, str) else None
        if login_limits.is_blocked(request, username):
            raise Throttled(
                wait=login_limits.WINDOW,
                detail="Too many failed logins. Try again later.",
            )
        try:
            response = super().post(request, *args, **kwargs)
        except ValidationError:
            if username and data.get("password"):  # a refused password, not a malformed call
                login_limits.record_failure(request, username)
            raise
        login_limits.record_success(request, username)
        return response
