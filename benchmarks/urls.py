"""The shop's URLs, plus the baselines a BUY is measured against (under /bench/)."""

from django.urls import include, path

from benchmarks import views
from benchmarks.chain import buy as chain_buy

urlpatterns = [
    path("bench/insert/", views.insert_one_row, name="bench-insert"),
    path("bench/monolith/<slug:slug>/", views.monolith_buy, name="bench-monolith"),
    path("bench/chain/<slug:slug>/buy/", chain_buy.buy, name="bench-chain-buy"),
    path("", include("config.urls")),
]
