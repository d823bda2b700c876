from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health, metrics
from config.event_api import views as event_api
from shop import login_limits

# The admin's login counts failures and stops password guessing, as the storefront's does.
admin.site.login_form = login_limits.AdminLoginForm
admin.site.login = login_limits.limited(admin.site.login)
# The message log's columns (each consumer group's outcome last) need the page's width on a
# laptop screen more than a second menu does: the index and the breadcrumbs navigate.
admin.site.enable_nav_sidebar = False


def favicon(request: HttpRequest) -> HttpResponse:
    # Pages without the icon's <link> (the admin, the API docs) make browsers ask for this.
    # Resolved per request: the hashed name exists only once collectstatic has run.
    return redirect(static("favicon.svg"))


urlpatterns = [
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("sales/", include("sales.urls")),
    path("account/points/", include("loyalty.urls")),
    path("api/", include("shop.api.urls")),
    path("api/", include("sales.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file of its own: no inline script to allow.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # The Kafka side: the AsyncAPI document every record's ce_dataschema points into.
    path("api/asyncapi.json", event_api.document_json, name="asyncapi-json"),
    path("api/asyncapi.yaml", event_api.document_yaml, name="asyncapi-yaml"),
    path("api/events/", event_api.events, name="event-api"),
    path("", include("shop.urls")),
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
