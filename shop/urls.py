from django.contrib.auth import views as auth_views
from django.urls import path

from . import accounts, login_limits, views

app_name = "shop"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("products/<slug:slug>/", views.product, name="product"),
    path("products/<slug:slug>/buy/", views.buy, name="buy"),
    path("orders/<uuid:order_id>/", views.order, name="order"),
    path("orders/<uuid:order_id>/live/", views.order_timeline, name="order-live"),
    path("orders/<uuid:order_id>/cancel/", views.cancel, name="cancel"),
    path("account/orders/", accounts.my_orders, name="my-orders"),
    path("account/signup/", accounts.signup, name="signup"),
    path(
        "account/login/",
        login_limits.limited(
            auth_views.LoginView.as_view(authentication_form=login_limits.LoginForm)
        ),
        name="login",
    ),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
