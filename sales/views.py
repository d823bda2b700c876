from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import access, charts, selectors


@require_GET
@access.figures_required
def figures(request: HttpRequest) -> HttpResponse:
    currencies = selectors.currencies()
    # Amounts in two currencies are never added up: one currency at a time, the shop's first.
    currency = request.GET.get("currency", currencies[0])
    if currency not in currencies:
        currency = currencies[0]
    products = selectors.figures_by_product(currency=currency)
    days = selectors.figures_by_day(currency=currency)
    return render(
        request,
        "sales/figures.html",
        {
            "currency": currency,
            "other_currencies": [c for c in currencies if c != currency],
            "products": charts.with_bars(products, "revenue"),
            "days": charts.day_columns(days, currency),
            "total_revenue": sum(d["revenue"] for d in days),
            "total_units": sum(d["units"] for d in days),
            "total_cancelled": sum(d["cancelled_orders"] for d in days),
        },
    )
