from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors


@require_GET
@login_required
def points(request: HttpRequest) -> HttpResponse:
    email = request.user.email
    return render(
        request,
        "loyalty/points.html",
        {
            "email": email,
            "currency": settings.SHOP_CURRENCY,  # the one that earns points (loyalty.rules)
            "balance": selectors.balance(email=email),
            "awards": selectors.awards(email=email),
        },
    )
