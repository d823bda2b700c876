"""The harness's browsers (benchmarks/clients.py) against real HTTP servers."""

import http.server
import threading
import time

from benchmarks.clients import Sample, run_clients


def _server() -> tuple[http.server.ThreadingHTTPServer, list[int]]:
    seen: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the browsers expect

        def do_GET(self):
            seen.append(int(self.path.strip("/")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def test_one_paced_stream_is_dealt_to_several_servers_in_turn():
    (first, to_first), (second, to_second) = _server(), _server()

    def send(browser, i) -> Sample:
        started = time.time()
        status, _, _ = browser.request("GET", f"/{i}")
        return Sample(started, time.time() - started, status, str(browser.port))

    try:
        samples = run_clients(
            3,
            range(10),
            send,
            host="127.0.0.1",
            port=(first.server_address[1], second.server_address[1]),
            rate=200,
        )
    finally:
        first.shutdown()
        second.shutdown()

    assert sorted(to_first) == [0, 2, 4, 6, 8]
    assert sorted(to_second) == [1, 3, 5, 7, 9]
    # In the stream's order, so that the caller tells the servers apart as samples[0::2]...
    assert [s.location for s in samples[0::2]] == [str(first.server_address[1])] * 5
    assert [s.location for s in samples[1::2]] == [str(second.server_address[1])] * 5
