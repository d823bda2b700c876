"""Scenario 8's collector, in a process of its own: an OTLP/HTTP endpoint that answers every
export and keeps nothing, and a scraper of the metrics ports the harness hands it.

A real collector and a real Prometheus are other processes than the shop's clients. Run as
threads of the harness, they shared its GIL with the clients timing the BUYs (as the purge
did in scenario 6), and charged telemetry with their wait for it.
"""

import contextlib
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
SCRAPE_SECONDS = 5.0


class _Collector(BaseHTTPRequestHandler):
    """Accepts OTLP/HTTP exports: reads the body, answers 200, keeps nothing."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def serve(endpoints, ports, stop) -> None:
    """Put the endpoint's URL on `endpoints`, then serve and scrape every port that comes
    on `ports` until `stop` is set (multiprocessing queues and event)."""
    server = ThreadingHTTPServer((HOST, 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoints.put(f"http://{HOST}:{server.server_address[1]}")
    scraped: list[int] = []
    while not stop.wait(SCRAPE_SECONDS):
        while not ports.empty():
            scraped.append(ports.get())
        for port in scraped:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=2).read()
    server.shutdown()
