"""A Kubo-RPC stand-in that misbehaves on purpose, for DaemonStore's failure tests.

A real daemon (js-ipfs, see `test_daemon.py`) proves the happy path and CID
agreement; it cannot be made to lie. This small HTTP server speaks the RPC subset
`DaemonStore` uses (version, add, cat, block get/put/stat, pin add/rm/ls) over a
`DiskStore`, and can be told to answer like a broken or hostile daemon:
truncated, corrupted, oversized or missing blocks, a cut, altered or padded
`cat` stream, a wrong CID from `add`, an old version, a hang.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from ledger.errors import FedLedgerError
from ledger.store.builder import compute_cid
from ledger.store.cid import Cid
from ledger.store.disk import DiskStore
from ledger.store.errors import ContentNotFound


@dataclass
class Faults:
    """What the fake daemon does wrong; all off by default."""

    block_get: str | None = None
    """None, 'truncate' (close mid-body), 'short' (complete but missing bytes),
    'corrupt', 'oversize', 'hang', or 'error' (HTTP 500 with a message)."""
    block_get_only: str | None = None
    """Apply `block_get` to this CID string only (None: every block)."""
    cat: str | None = None
    """None, 'truncate' (close mid-body), 'short' (complete but 100 bytes missing),
    'corrupt' (one byte flipped mid-content), or 'extra' (trailing bytes)."""
    add_hash: str | None = None
    """Answer `add` with this CID instead of the right one."""
    version: str = "0.30.0"
    hang_seconds: float = 5.0


@dataclass
class FakeDaemon:
    """Serve `backing` on 127.0.0.1 with the Kubo RPC subset; see the module docstring."""

    backing: DiskStore
    faults: Faults = field(default_factory=Faults)
    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        daemon = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                daemon._handle(self)

            def setup(self) -> None:
                super().setup()
                with daemon._connections_lock:
                    daemon._connections.add(self.connection)

        self._handler = Handler
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._port = 0
        self._server: ThreadingHTTPServer | None = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1] if self._server is not None else self._port
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()

    def go_down(self) -> None:
        """Stop answering, close the port and every open connection, like a killed daemon."""
        server, self._server = self._server, None
        assert server is not None, "already down"
        self._port = server.server_address[1]
        server.shutdown()
        server.server_close()
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client

    def come_back(self) -> None:
        """Listen again on the same port (same backing store), like a restarted daemon."""
        assert self._server is None, "still up"
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # -- request handling -----------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlsplit(request.path)
        command = parts.path.removeprefix("/api/v0/")
        query = urllib.parse.parse_qs(parts.query)
        self.calls.append(command)
        body = _read_body(request)
        arg = query.get("arg", [""])[0]
        if command == "version":
            _json(request, {"Version": self.faults.version, "Commit": "", "Repo": "15"})
        elif command == "block/get":
            self._block_get(request, arg)
        elif command == "cat":
            self._cat(request, arg)
        elif command == "block/stat":
            try:
                block = self.backing.get_block(arg)
            except ContentNotFound:
                _error(request, "block not found locally")
                return
            _json(request, {"Key": arg, "Size": len(block)})
        elif command == "block/put":
            data = _multipart_file(request, body)
            block_cid = Cid.v1(0x55, hashlib.sha256(data).digest())
            self.backing.put_block(block_cid, data)
            _json(request, {"Key": str(block_cid), "Size": len(data)})
        elif command == "add":
            data = _multipart_file(request, body)
            only_hash = query.get("only-hash", ["false"])[0] == "true"
            cid = compute_cid(data) if only_hash else self.backing.put_bytes(data)
            _json(
                request, {"Name": cid, "Hash": self.faults.add_hash or cid, "Size": str(len(data))}
            )
        elif command in ("pin/add", "pin/rm"):
            try:
                (self.backing.pin if command == "pin/add" else self.backing.unpin)(arg)
            except FedLedgerError as exc:
                _error(request, str(exc))
                return
            _json(request, {"Pins": [arg]})
        elif command == "pin/ls":
            if arg in self.backing.pins():
                _json(request, {"Keys": {arg: {"Type": "recursive"}}})
            else:
                _error(request, f"path '{arg}' is not pinned")
        else:
            _error(request, f"unknown command {command}", status=404)

    def _cat(self, request: BaseHTTPRequestHandler, arg: str) -> None:
        try:
            data = self.backing.get_bytes(arg)
        except ContentNotFound:
            time.sleep(self.faults.hang_seconds)
            _error(request, "block was not found locally (offline)")
            return
        fault = self.faults.cat
        if fault == "corrupt":
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]
        elif fault == "short":
            data = data[:-100]
        elif fault == "extra":
            data = data + b"trailing bytes"
        _send_bytes(request, data, truncate=fault == "truncate")

    def _block_get(self, request: BaseHTTPRequestHandler, arg: str) -> None:
        try:
            block = self.backing.get_block(arg)
        except ContentNotFound:
            time.sleep(self.faults.hang_seconds)
            _error(request, "block was not found locally (offline)")
            return
        fault = self.faults.block_get
        if self.faults.block_get_only not in (None, arg):
            fault = None
        if fault == "hang":
            time.sleep(self.faults.hang_seconds)
        elif fault == "error":
            _error(request, "blockstore: internal failure")
            return
        elif fault == "corrupt":
            block = bytes([block[0] ^ 1]) + block[1:]
        elif fault == "short":
            block = block[: len(block) // 2]
        elif fault == "oversize":
            block = block + b"\0" * (2 << 20)
        _send_bytes(request, block, truncate=fault == "truncate")


def _send_bytes(request: BaseHTTPRequestHandler, data: bytes, truncate: bool) -> None:
    request.send_response(200)
    request.send_header("Content-Type", "application/octet-stream")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    if truncate:
        request.wfile.write(data[: len(data) // 2])
        request.wfile.flush()
        request.close_connection = True
        return
    request.wfile.write(data)


def _read_body(request: BaseHTTPRequestHandler) -> bytes:
    if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            size = int(request.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                request.rfile.readline()
                return bytes(out)
            out += request.rfile.read(size)
            request.rfile.readline()
    length = int(request.headers.get("Content-Length") or 0)
    return request.rfile.read(length) if length else b""


def _multipart_file(request: BaseHTTPRequestHandler, body: bytes) -> bytes:
    content_type = request.headers.get("Content-Type", "")
    boundary = content_type.split("boundary=")[1].strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, _, payload = part.partition(b"\r\n\r\n")
        if b"Content-Disposition" in head:
            return payload.removesuffix(b"\r\n")
    raise AssertionError("no file part in the multipart body")


def _json(request: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
    raw = (json.dumps(payload) + "\n").encode()
    request.send_response(200)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(raw)))
    request.end_headers()
    request.wfile.write(raw)


def _error(request: BaseHTTPRequestHandler, message: str, status: int = 500) -> None:
    raw = json.dumps({"Message": message, "Code": 0, "Type": "error"}).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(raw)))
    request.end_headers()
    request.wfile.write(raw)
