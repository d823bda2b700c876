from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.authtoken.views import ObtainAuthToken

from .throttling import ScopedThrottle


# DRF's token view, with a limit on password guesses (per client address: the caller is not
# signed in yet), which DRF leaves out.
@extend_schema_view(
    post=extend_schema(
        summary="Get your API token",
        description="Send it as `Authorization: Token <token>`.",
        responses={
            200: ObtainAuthToken.serializer_class,
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(description="Too many attempts; wait as Retry-After says."),
        },
    )
)
class TokenObtainApi(ObtainAuthToken):
    throttle_classes = [ScopedThrottle]
    throttle_scope = "token"
