from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("products/<slug:slug>/", views.product, name="product"),
    path("products/<slug:slug>/buy/", views.buy, name="buy"),
    path("orders/<uuid:order_id>/", views.order, name="order"),
    path("orders/<uuid:order_id>/live/", views.order_timeline, name="order-live"),
]
