"""The baseline views, served by the same gunicorn, settings and middleware as the BUY."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from shop.forms import BuyForm
from shop.models import Product

from . import monolith

# Created by the harness (benchmarks.setup), not by a migration: no app owns it.
PING_TABLE = "bench_ping"


@require_POST
def insert_one_row(request: HttpRequest) -> HttpResponse:
    """The least a BUY could do: one INSERT into the same database, then a redirect."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PING_TABLE} (created_at, note) VALUES (now(), %s)",
            [request.POST.get("name", "")],
        )
    return redirect("/")


@require_POST
def monolith_buy(request: HttpRequest, slug: str) -> HttpResponse:
    """The BUY form of the storefront, with the whole order handled inside the request."""
    item = get_object_or_404(Product, slug=slug, active=True)
    form = BuyForm(request.POST)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400)
    order_id = monolith.buy_and_fulfil(
        customer=form.customer,
        sku=item.sku,
        quantity=form.cleaned_data["quantity"],
        scope=request.GET.get("scope", "whole"),
    )
    return redirect("shop:order", order_id=order_id)
