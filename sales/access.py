"""Who may see the sales figures: revenue is business data.

Outside the demo, the page, `GET /api/sales/` and the admin show the figures only to
accounts granted `sales.view_dailyproductsales` (superusers have every permission). In
the demo (`settings.SALES_FIGURES_PUBLIC`, on with SHOP_DEMO) they are open to anyone, so
a visitor can watch the projection move as orders come in.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

# Django's own view permission of the projection: whoever may read its rows in the admin
# may read the figures built from them, and one grant covers the page, the API and admin.
PERMISSION = "sales.view_dailyproductsales"


def figures_are_public() -> bool:
    return settings.SALES_FIGURES_PUBLIC


def may_see_figures(user) -> bool:
    return figures_are_public() or user.has_perm(PERMISSION)


def figures_required(view):
    """A page of figures: the login page for a visitor, 403 for an account without the grant."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if may_see_figures(request.user):
            return view(request, *args, **kwargs)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied("Sales figures are for staff with the sales permission.")

    return guarded


class CanSeeFigures(BasePermission):
    message = f"Sales figures are for staff with the permission {PERMISSION}."

    def has_permission(self, request, view) -> bool:
        return may_see_figures(request.user)
