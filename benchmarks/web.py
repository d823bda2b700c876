"""Requests as a shopper's browser sends them: the BUY form, and its two baselines.

Scenario 1 puts the storefront's BUY beside a plain view that inserts one row; baseline (a)
of scenario 2 is the same form handled by the monolith view. Both baselines are served by
the same gunicorn as the BUY (benchmarks.settings), and the BUY and the plain insert run
in alternating rounds so that a noisy neighbour hurts both alike.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from shop.models import Product

from .clients import Browser, Sample, run_clients
from .stack import HOST, Stack


@dataclass
class RequestRun:
    samples: list[Sample]
    seconds: float  # wall time of the whole run

    @property
    def per_second(self) -> float:
        return len(self.samples) / self.seconds

    def latencies(self) -> list[float]:
        return [s.seconds for s in self.samples]


def customer(i: int) -> dict:
    return {
        "quantity": 1,
        "name": f"Shopper {i}",
        "email": f"shopper{i}@example.com",
        "phone": "+44 20 7946 0000",
        "address": f"{i} Benchmark Street, London",
    }


def products_for(products: list[Product], n: int, seed: int = 7) -> list[Product]:
    """`n` products picked at random but repeatably: orders spread over the catalog, so rows
    locked per SKU (stock, daily sales) are shared as in a real shop, not by every order."""
    chooser = random.Random(seed)
    return [chooser.choice(products) for _ in range(n)]


def post_form(
    stack: Stack,
    products: list[Product],
    path_of: Callable[[Product], str],
    *,
    clients: int,
    rate: float | None = None,
    on_sample: Callable[[Sample], None] = lambda s: None,
    before: Callable[[], None] | None = None,
    expect: int = 302,
    ports: tuple[int, ...] = (),
) -> RequestRun:
    """POST the BUY form once per product, through `clients` browsers, to the stack's web
    server or to each of `ports` in turn."""
    form_page = f"/products/{products[0].slug}/"

    def send(browser: Browser, item) -> Sample:
        i, product = item
        if before is not None:
            before()  # outside the timed part: waiting to send is not the request's latency
        sample = browser.post_form(
            path_of(product), customer(i), referer=f"http://{HOST}:{browser.port}{form_page}"
        )
        if sample.status != expect:
            raise RuntimeError(f"POST {path_of(product)} answered {sample.status}")
        on_sample(sample)
        return sample

    begin = time.perf_counter()
    samples = run_clients(
        clients,
        list(enumerate(products)),
        send,
        host=HOST,
        port=ports or stack.port,
        prepare=lambda browser: browser.csrf_token(form_page),
        rate=rate,
    )
    return RequestRun(samples, time.perf_counter() - begin)


def buy_path(product: Product) -> str:
    return f"/products/{product.slug}/buy/"


def insert_path(product: Product) -> str:
    return "/bench/insert/"


def monolith_path(scope: str) -> Callable[[Product], str]:
    return lambda product: f"/bench/monolith/{product.slug}/?scope={scope}"


def buy_against_insert(
    stack: Stack, products: list[Product], *, requests: int, clients: int, rounds: int, tick
) -> tuple[RequestRun, RequestRun]:
    """Scenario 1: `requests` BUYs and as many plain inserts, in alternating rounds."""
    chosen = products_for(products, requests)
    size = -(-requests // rounds)
    buys, inserts = [], []
    buy_seconds = insert_seconds = 0.0
    for start in range(0, requests, size):
        part = chosen[start : start + size]
        run = post_form(stack, part, buy_path, clients=clients, on_sample=tick)
        buys += run.samples
        buy_seconds += run.seconds
        run = post_form(stack, part, insert_path, clients=clients, on_sample=tick)
        inserts += run.samples
        insert_seconds += run.seconds
    return RequestRun(buys, buy_seconds), RequestRun(inserts, insert_seconds)
