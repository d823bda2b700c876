"""The shop's URLs, plus the baselines a BUY is measured against (under /bench/)."""

from django.urls import include, path

from benchmarks import views

urlpatterns = [
    path("bench/insert/", views.insert_one_row, name="bench-insert"),
    path("bench/monolith/<slug:slug>/", views.monolith_buy, name="bench-monolith"),
    path("", include("config.urls")),
]
