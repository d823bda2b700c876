"""The shop's reads for the storefront."""

from django.db.models import Q, QuerySet

from .models import Category, Order, Product


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


def order_with_lines(order_id) -> Order | None:
    return Order.objects.prefetch_related("lines").filter(id=order_id).first()
