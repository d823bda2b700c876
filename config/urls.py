from django.contrib import admin
from django.urls import include, path

from config import health

urlpatterns = [
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("admin/", admin.site.urls),
    path("sales/", include("sales.urls")),
    path("api/", include("shop.api.urls")),
    path("api/", include("sales.api_urls")),
    path("", include("shop.urls")),
]
