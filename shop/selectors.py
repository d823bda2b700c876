"""The shop's reads for the storefront."""

from django.db.models import Q, QuerySet

from .models import Availability, Category, Order, Product


def products_for_sale(*, query: str = "", category: str = "") -> QuerySet[Product]:
    products = Product.objects.filter(active=True).select_related("category")
    if query:
        products = products.filter(
            Q(name__icontains=query) | Q(description__icontains=query) | Q(sku__iexact=query)
        )
    if category:
        products = products.filter(category__slug=category)
    return products


def categories() -> QuerySet[Category]:
    return Category.objects.filter(products__active=True).distinct()


def available(sku: str) -> int | None:
    """Units for sale as the warehouse last announced; None before it has said anything."""
    return Availability.objects.filter(sku=sku).values_list("available", flat=True).first()


def availability_by_sku(skus) -> dict[str, int]:
    return dict(Availability.objects.filter(sku__in=list(skus)).values_list("sku", "available"))


def order_with_lines(order_id) -> Order | None:
    return Order.objects.prefetch_related("lines").filter(id=order_id).first()
