"""A TCP proxy that can be cut: the network between the shop and its broker, made breakable.

While cut it holds no connection and refuses new ones (nothing listens on its port), so
every Kafka client behind it sees the broker vanish mid-conversation, exactly as when a
broker host goes away; `restore` listens again on the same port.
"""

import contextlib
import socket
import threading
import time

HOST = "127.0.0.1"
CHUNK = 65536


class TcpProxy:
    def __init__(self, listen_port: int, target: tuple[str, int]) -> None:
        self.address = (HOST, listen_port)
        self.target = target
        self.connections = 0  # accepted since start, so a test can see traffic went through
        self.cuts: list[tuple[float, float | None]] = []  # (cut at, restored at), monotonic
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Event | None = None

    @property
    def url(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

    def start(self) -> "TcpProxy":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self.address)
        listener.listen(128)
        # Accept with a timeout, so the loop notices a cut without relying on close()
        # waking a blocked accept() (Linux does not promise that).
        listener.settimeout(0.1)
        accepting = threading.Event()
        accepting.set()
        self._listener, self._accepting = listener, accepting
        threading.Thread(
            target=self._accept_loop, args=(listener, accepting), daemon=True, name="proxy"
        ).start()
        return self

    def cut(self) -> None:
        """Close every connection and stop listening: connecting now fails at once."""
        self._accepting.clear()
        self._listener.close()
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            _close(sock)
        self.cuts.append((time.monotonic(), None))

    def restore(self) -> None:
        self.start()
        cut_at, _ = self.cuts[-1]
        self.cuts[-1] = (cut_at, time.monotonic())

    def stop(self) -> None:
        if self._accepting is not None and self._accepting.is_set():
            self.cut()

    def _accept_loop(self, listener: socket.socket, accepting: threading.Event) -> None:
        while accepting.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if not accepting.is_set():  # cut while we were connecting upstream
                    _close(client)
                    _close(upstream)
                    return
                self._sockets |= {client, upstream}
                self.connections += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(CHUNK):
                dst.sendall(data)
        except OSError:
            pass  # either side closed, or the proxy was cut: end the pair
        finally:
            with self._lock:
                self._sockets -= {src, dst}
            _close(src)
            _close(dst)


def _close(sock: socket.socket) -> None:
    # shutdown() first: it wakes a thread blocked in recv() on this socket, close() may not.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
