"""The web's `/metrics`: the gauges of shared state, and gunicorn's processes' counters.

Who may read it: addresses in METRICS_ALLOWED_IPS (addresses or networks; loopback by
default), and only when the request reached the web server directly. A request that came
through a proxy (it carries X-Forwarded-For) is refused whatever its address: behind a
proxy on the same host every visitor would otherwise look like 127.0.0.1. Allowed
addresses rather than a port of its own, because gunicorn serves one application on one
bind, and a second server would be one more process to supervise per container; Prometheus
scrapes from inside the deployment's network, which the list names (compose: its subnets).
Everyone else gets 404, as if there were nothing here.

Under gunicorn (PROMETHEUS_MULTIPROC_DIR set by config.gunicorn) the counters of every
worker process are summed from their files; the gauges read the database and the broker
once per scrape (messaging.metrics, messagelog.metrics).
"""

import ipaddress
import os

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from messagelog.metrics import LagCollector
from messaging.metrics import DatabaseCollector


def allowed_networks() -> list:
    value = os.environ.get("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
    return [ipaddress.ip_network(v.strip(), strict=False) for v in value.split(",") if v.strip()]


ALLOWED = allowed_networks()


def allowed(request: HttpRequest) -> bool:
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in ALLOWED)


def registry() -> CollectorRegistry:
    shared = CollectorRegistry()
    shared.register(DatabaseCollector())
    shared.register(LagCollector())
    return shared


def _counters() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY  # one process (runserver, the tests' live server)
    summed = CollectorRegistry()
    MultiProcessCollector(summed)
    return summed


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        raise Http404
    body = generate_latest(_counters()) + generate_latest(registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
