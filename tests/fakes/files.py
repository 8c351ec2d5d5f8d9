"""A real HTTP server on 127.0.0.1 that serves files for download tests (GeoNames' export).

Each path maps to a :class:`File`: its bytes, and how to misbehave: a status (404, 500), a delay
before answering (longer than the client's timeout), or a body cut short while the
``Content-Length`` header announces all of it (the connection closes mid-download). Every request
is recorded.

    with FakeFileServer({"/dump/SY.zip": File(zip_bytes)}) as srv:
        fetch_geonames("SY", url=srv.url("/dump"))
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class File:
    """One file: ``body`` served with ``status``; ``delay`` seconds before the answer; ``cut``:
    send only this many bytes of ``body`` (Content-Length still says all of it), then close."""

    body: bytes = b""
    status: int = 200
    delay: float = 0.0
    cut: int | None = None


class FakeFileServer:
    """Serves ``files`` (path → :class:`File`) on a free port of 127.0.0.1; other paths are 404."""

    def __init__(self, files: dict[str, File]):
        self.files = dict(files)
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str = "") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def __enter__(self) -> FakeFileServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                with outer._lock:
                    outer.requests.append(self.path)
                f = outer.files.get(self.path, File(b"not found", status=404))
                if f.delay:
                    time.sleep(f.delay)
                try:
                    self.send_response(f.status)
                    self.send_header("Content-Type", "application/zip" if f.status == 200 else "text/plain")
                    self.send_header("Content-Length", str(len(f.body)))
                    self.end_headers()
                    self.wfile.write(f.body if f.cut is None else f.body[:f.cut])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass
                if f.cut is not None:
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
