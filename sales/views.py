from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import charts, selectors


@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    products = selectors.figures_by_product()
    days = selectors.figures_by_day()
    return render(
        request,
        "sales/figures.html",
        {
            "products": charts.with_bars(products, "revenue"),
            "days": charts.day_columns(days),
            "total_revenue": sum(d["revenue"] for d in days),
            "total_units": sum(d["units"] for d in days),
            "total_cancelled": sum(d["cancelled_orders"] for d in days),
        },
    )
