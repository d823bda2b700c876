from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from .fields import Text
from .throttling import ScopedThrottle


class TokenObtainApi(ObtainAuthToken):
    # DRF's token view, with a limit on password guesses (per client address: the caller is
    # not signed in yet), which DRF leaves out. The caller proves who they are with the
    # username and password in the body, so no other authentication applies, and the schema
    # then shows the operation as open to anyone. (A comment, not a docstring: the schema
    # would show a docstring to API users.)

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
        return super().post(request, *args, **kwargs)
