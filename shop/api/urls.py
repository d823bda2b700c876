from django.urls import path

from .catalog import ProductDetailApi, ProductListApi
from .orders import OrderCancelApi, OrderDetailApi, OrdersApi
from .tokens import TokenObtainApi

app_name = "shop-api"

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="token"),
    path("products/", ProductListApi.as_view(), name="products"),
    path("products/<str:sku>/", ProductDetailApi.as_view(), name="product"),
    path("orders/", OrdersApi.as_view(), name="orders"),
    path("orders/<uuid:order_id>/", OrderDetailApi.as_view(), name="order"),
    path("orders/<uuid:order_id>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
]
