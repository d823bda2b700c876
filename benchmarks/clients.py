"""Concurrent HTTP clients that behave like browsers: keep-alive, cookies, CSRF tokens.

Each client GETs a form page once (the CSRF cookie and token a browser would get), then
POSTs the form again and again on the same connection. Redirects are not followed: a
BUY's latency is its own request's.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Sample:
    started: float  # wall clock (time.time()), comparable with the database's timestamps
    seconds: float
    status: int
    location: str


class Browser:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.token = ""  # the CSRF token of the last form fetched
        self.conn = http.client.HTTPConnection(host, port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # The server closed an idle keep-alive connection: open another, once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            self.cookies.update({k: m.value for k, m in cookie.items()})
        return response.status, response.headers, data

    def csrf_token(self, form_path: str) -> str:
        status, _, html = self.request("GET", form_path)
        match = CSRF_INPUT.search(html)
        if status != 200 or match is None:
            raise RuntimeError(f"GET {form_path}: {status}, no CSRF token in the form")
        self.token = match.group(1).decode()
        return self.token

    def post_form(self, path: str, fields: dict, referer: str) -> Sample:
        body = urlencode(fields | {"csrfmiddlewaretoken": self.token}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": referer,
        }
        started, begin = time.time(), time.perf_counter()
        status, response_headers, _ = self.request("POST", path, body, headers)
        seconds = time.perf_counter() - begin
        return Sample(started, seconds, status, response_headers.get("Location", ""))

    def close(self) -> None:
        self.conn.close()


def run_clients(
    clients: int,
    requests: Iterable,
    send: Callable[[Browser, object], Sample],
    *,
    host: str,
    port: int | tuple[int, ...],
    on_sample: Callable[[Sample], None] = lambda s: None,
    prepare: Callable[[Browser], None] = lambda b: None,
    rate: float | None = None,
) -> list[Sample]:
    """Send every item of `requests` through `clients` concurrent browsers; samples in order.

    Closed loop by default (each client sends its next request when the last one answered);
    with `rate`, the i-th request is sent no earlier than i / rate seconds after the start.
    With several ports (servers), the i-th request goes to the (i mod n)-th, each client
    keeping a browser for each: one stream, its requests dealt to the servers in turn.
    """
    ports = (port,) if isinstance(port, int) else port
    work = iter(enumerate(requests))
    begin = time.perf_counter()
    lock = threading.Lock()
    samples: dict[int, Sample] = {}
    errors: list[BaseException] = []

    def client() -> None:
        browsers = [Browser(host, p) for p in ports]
        try:
            for browser in browsers:
                prepare(browser)
            while not errors:
                with lock:
                    item = next(work, None)
                if item is None:
                    return
                if rate:
                    time.sleep(max(0.0, begin + item[0] / rate - time.perf_counter()))
                sample = send(browsers[item[0] % len(browsers)], item[1])
                samples[item[0]] = sample
                on_sample(sample)
        except BaseException as exc:  # re-raised in the caller's thread below
            errors.append(exc)
        finally:
            for browser in browsers:
                browser.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [samples[i] for i in sorted(samples)]
