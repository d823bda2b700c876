from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors


@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    rows = selectors.figures_by_product()
    top = max((row["revenue"] for row in rows), default=0) or 1
    for row in rows:
        row["bar"] = round(100 * row["revenue"] / top)
    return render(request, "sales/figures.html", {"rows": rows})
