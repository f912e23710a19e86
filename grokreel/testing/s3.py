"""S3 servers for tests and benchmarks: moto on loopback, and a proxy that fails a share of calls.

moto (`moto[server]`) is a test dependency; this module imports it only when a server starts.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class MotoS3:
    """moto's S3 server in a thread on 127.0.0.1 (a real HTTP server, not mocked functions)."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def __enter__(self) -> MotoS3:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per S3 call otherwise
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="admin",
            aws_secret_access_key="admin",
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def get(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=bucket, Key=key, Body=data)


class FaultyProxy:
    """Forwards HTTP to ``upstream``, failing a share ``rate`` of calls: a 500 or 503 without
    forwarding, a connection dropped before forwarding, or one dropped after moto answered (the
    client cannot know whether its write happened)."""

    def __init__(self, upstream: str, rate: float, seed: int = 0):
        self.upstream, self.rate = upstream, rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.faults = {"500": 0, "503": 0, "drop-before": 0, "drop-after": 0}
        self.calls = 0
        self.http = httpx.Client(timeout=30)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultyProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.http.close()

    def pick(self) -> str | None:
        with self.lock:
            self.calls += 1
            if self.random.random() >= self.rate:
                return None
            fault = self.random.choice(list(self.faults))
            self.faults[fault] += 1
            return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _drop(self) -> None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy.pick()
                if fault in ("500", "503"):
                    self.send_response(int(fault))
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if fault == "drop-before":
                    return self._drop()
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = proxy.http.request(
                    self.command, proxy.upstream + self.path, headers=headers, content=body
                )
                if fault == "drop-after":
                    return self._drop()
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                size = answer.headers.get("content-length", "0")
                sent = size if self.command == "HEAD" else str(len(answer.content))
                self.send_header("content-length", sent)
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        return Handler
