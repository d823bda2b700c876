"""Storefront pages: thin entrypoints that parse, call one service or selector, render."""

from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messagelog.selectors import conversation_timeline

from . import selectors, services
from .contracts import RequestedLine
from .forms import BuyForm
from .models import Order, Product

SESSION_ORDERS = "orders"  # {order id: correlation id} of the orders this browser placed
# The latest ones only: the session is read and written whole on every BUY, and a browser
# that bought 250 times made each BUY sign, compress and store 20 KB. Each order's emails
# keep its details; an account's orders are all on its "My orders" page.
SESSION_ORDERS_KEPT = 20
SESSION_CUSTOMER = "customer"  # the last contact details, to prefill the next BUY


@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    # PostgreSQL text cannot hold NUL; nothing in the catalog contains one either.
    query = request.GET.get("q", "").replace("\x00", "").strip()
    category = request.GET.get("category", "").replace("\x00", "")
    products = list(selectors.products_for_sale(query=query, category=category))
    stock = selectors.availability_by_sku(p.sku for p in products)
    for item in products:
        item.available = stock.get(item.sku)
    return render(
        request,
        "shop/catalog.html",
        {
            "products": products,
            "categories": selectors.categories(),
            "query": query,
            "category": category,
        },
    )


@require_GET
def product(request: HttpRequest, slug: str) -> HttpResponse:
    item = get_object_or_404(Product, slug=slug, active=True)
    form = BuyForm(initial=_remembered_customer(request))
    return _product_page(request, item, form)


def _product_page(request: HttpRequest, item: Product, form: BuyForm, status: int = 200):
    return render(
        request,
        "shop/product.html",
        {
            "product": item,
            "form": form,
            "available": selectors.available(item.sku),
        },
        status=status,
    )


def _remembered_customer(request: HttpRequest) -> dict:
    remembered = request.session.get(SESSION_CUSTOMER)
    if remembered:
        return remembered
    if request.user.is_authenticated:
        return {
            "name": request.user.get_full_name() or request.user.username,
            "email": request.user.email,
        }
    return {}


@require_http_methods(["GET", "POST"])
def buy(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "GET":
        # The address bar shows this URL after a refused BUY; opening it again is a visit.
        return redirect("shop:product", slug=slug)
    item = Product.objects.filter(slug=slug).first()
    form = BuyForm(request.POST)
    if item is None or not item.active:
        messages.error(request, "This product is not for sale any more.")
        return redirect("shop:catalog")
    if not form.is_valid():
        return _product_page(request, item, form, status=400)
    placed = services.order_request(
        customer=form.customer,
        lines=[RequestedLine(sku=item.sku, quantity=form.cleaned_data["quantity"])],
        account_id=request.user.id if request.user.is_authenticated else None,
    )
    remember_order(request, placed.order_id, placed.correlation_id)
    request.session[SESSION_CUSTOMER] = form.customer_data()
    return redirect("shop:order", order_id=placed.order_id)


def remember_order(request: HttpRequest, order_id: UUID, correlation_id: UUID) -> None:
    """This browser may follow the order: its session keeps its latest SESSION_ORDERS_KEPT."""
    orders = request.session.get(SESSION_ORDERS, {})
    orders[str(order_id)] = str(correlation_id)
    request.session[SESSION_ORDERS] = dict(list(orders.items())[-SESSION_ORDERS_KEPT:])


@require_GET
def order(request: HttpRequest, order_id: UUID) -> HttpResponse:
    return render(request, "shop/order.html", _order_context(request, order_id))


@require_GET
def order_timeline(request: HttpRequest, order_id: UUID) -> HttpResponse:
    """The live part of the order page, fetched again by the page every second."""
    return render(request, "shop/_order_live.html", _order_context(request, order_id))


@require_POST
def cancel(request: HttpRequest, order_id: UUID) -> HttpResponse:
    order = _order_context(request, order_id)["order"]
    if order is None:
        messages.error(request, "The shop is still placing this order; try again in a moment.")
        return redirect("shop:order", order_id=order_id)
    try:
        services.order_cancel_request(order=order)
    except services.OrderNotCancellable as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, "You asked to cancel this order: its status below shows the answer."
        )
    return redirect("shop:order", order_id=order_id)


def _order_context(request: HttpRequest, order_id: UUID) -> dict:
    """The order and its conversation, for whoever may see it (else 404, not 403)."""
    placed_here = request.session.get(SESSION_ORDERS, {})
    found = selectors.order_with_lines(order_id)
    owner = (
        found is not None and request.user.is_authenticated and found.account_id == request.user.id
    )
    if str(order_id) in placed_here:
        correlation_id = UUID(placed_here[str(order_id)])
    elif found is not None and (owner or request.user.is_staff):
        correlation_id = found.correlation_id
    else:
        raise Http404("No such order")  # someone else's orders do not exist for you
    timeline = conversation_timeline(correlation_id)
    return {
        "order_id": order_id,
        "order": found,
        "correlation_id": correlation_id,
        "timeline": timeline,
        # Settled: nothing more will change on the page, so it stops refreshing. A
        # cancellation's answer may come just after the order has settled (the warehouse
        # refuses CancelDispatch after OrderDispatched), so the page waits for it too.
        "settled": found is not None
        and found.status in Order.SETTLED
        and not selectors.cancellation_unanswered(timeline),
    }
