"""The chain's BUY: the storefront's form, answered once the broker holds its commands.

The web process is the shop here: it records the order and its lines, then tells the
warehouse to dispatch it and notifications to say it was received. The browser waits for
both sends to be acknowledged (acks=all) inside the order's transaction, so a BUY is
answered only when its commands are safe, and a refused send leaves no order behind.
"""

from __future__ import annotations

import threading
import uuid

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST
from kafka import KafkaProducer

from shop.forms import BuyForm
from shop.models import Order, OrderLine, Product
from shop.views import SESSION_CUSTOMER, remember_order

from . import commands, services

SEND_TIMEOUT = 10  # seconds the BUY waits for the broker before it fails
_producer: KafkaProducer | None = None
_lock = threading.Lock()


def producer() -> KafkaProducer:
    """One producer per web process, made on first use (after gunicorn forked)."""
    global _producer
    with _lock:
        if _producer is None:
            from messaging.kafka import producer as configured

            # linger 0: a request waits for its send, there is no batch worth waiting for.
            _producer = configured(client_id="chain-web", linger_ms=0)
        return _producer


@require_POST
def buy(request: HttpRequest, slug: str) -> HttpResponse:
    item = Product.objects.filter(slug=slug, active=True).first()
    form = BuyForm(request.POST)
    if item is None:
        return HttpResponse("This product is not for sale any more.", status=404)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400)
    customer = form.customer_data()
    quantity = form.cleaned_data["quantity"]
    currency = settings.SHOP_CURRENCY
    with transaction.atomic():
        order = Order.objects.create(
            id=uuid.uuid4(),
            correlation_id=uuid.uuid4(),
            customer_name=customer["name"],
            email=customer["email"],
            phone=customer["phone"],
            address=customer["address"],
            total=item.price * quantity,
            currency=currency,
            placed_at=timezone.now(),
        )
        OrderLine.objects.create(
            order=order, sku=item.sku, name=item.name, unit_price=item.price, quantity=quantity
        )
        order_id = str(order.id)
        line = {
            "sku": item.sku,
            "name": item.name,
            "quantity": quantity,
            "unit_price": {"amount": str(item.price), "currency": currency},
        }
        dispatch = commands.DispatchProduct(
            order_id=order_id, placed_at=order.placed_at.isoformat(), lines=[line], **customer
        )
        received = services.received(
            order_id=order_id, customer=customer, total=order.total, currency=currency
        )
        told = [dispatch, *received]
        client = producer()
        futures = []
        for command in told:
            topic, key, value, headers = commands.encode(command)
            futures.append(client.send(topic, key=key, value=value, headers=headers))
        for future in futures:
            future.get(timeout=SEND_TIMEOUT)
    # As the shop's BUY does: this browser can follow its order, and the form is prefilled.
    remember_order(request, order.id, order.correlation_id)
    request.session[SESSION_CUSTOMER] = customer
    return redirect("shop:order", order_id=order.id)
