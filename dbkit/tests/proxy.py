"""A TCP forwarder on loopback that the tests can cut, or slow down like a network.

Works in front of any server (the harness's MariaDB, a mysql:8 container), so the kit's
own suite covers a lost server without controlling the server process.

`delay` holds every piece of data for that many seconds in each direction before passing
it on (order kept, no bandwidth limit): a user-space stand-in for `tc netem delay`, which
this kernel lacks. bench/verify.py uses it for the remote case (5 ms each way).
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time


class Proxy:
    def __init__(self, host: str, port: int, *, delay: float = 0.0) -> None:
        self.target = (host, port)
        self.delay = delay
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for s in (client, upstream):
                # Small MySQL packets go out at once: Nagle would add its own delay.
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                pipe = self._pipe if self.delay <= 0 else self._delayed_pipe
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _close_both(a: socket.socket, b: socket.socket) -> None:
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    @classmethod
    def _pipe(cls, a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        cls._close_both(a, b)

    def _delayed_pipe(self, a: socket.socket, b: socket.socket) -> None:
        """Read as data comes; a second thread sends each piece `delay` seconds after it came."""
        held: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def sender() -> None:
            with contextlib.suppress(OSError):
                while True:
                    due, data = held.get()
                    if not data:
                        break
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    b.sendall(data)
            self._close_both(a, b)

        threading.Thread(target=sender, daemon=True).start()
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                held.put((time.monotonic() + self.delay, data))
        held.put((time.monotonic() + self.delay, b""))

    def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._sockets = []
