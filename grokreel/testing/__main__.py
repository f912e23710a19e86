"""`python -m grokreel.testing --port N`: run the fal-protocol test server until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from .fal_server import FalTestServer, Faults


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m grokreel.testing",
        description="A fal-protocol server on loopback for tests.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key", default="test-key", help="the FAL_KEY clients must send")
    parser.add_argument("--queue-seconds", type=float, default=0.0)
    parser.add_argument("--run-seconds", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--flaky",
        type=float,
        default=0.0,
        help="share of status/result calls that fail (429, 503 or a reset)",
    )
    args = parser.parse_args(argv)
    faults = Faults(
        queue_seconds=args.queue_seconds,
        run_seconds=args.run_seconds,
        concurrency=args.concurrency,
        flaky=args.flaky,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FalTestServer(key=args.key, host=args.host, port=args.port, faults=faults) as fal:
        for name, value in fal.env().items():
            print(f"export {name}={value}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
