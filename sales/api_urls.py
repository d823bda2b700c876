from django.urls import path

from .api import SalesFiguresApi

app_name = "sales-api"

urlpatterns = [path("sales/", SalesFiguresApi.as_view(), name="figures")]
