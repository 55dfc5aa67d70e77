"""The load generator: keep-alive HTTP clients on threads of their own, the
requests of a scenario with the answers they expect, and the figures of
their records (median, p95, throughput)."""

import http.client
import json
import statistics
import threading
import time
from collections import Counter

HTTP_TIMEOUT = 60


class Client:
    """One keep-alive connection (http.client reconnects when the server
    closes it, as gunicorn's sync worker does after every response)."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body=None, token: str | None = None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
            reused = self.conn.sock is not None
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server had closed meanwhile: once more.
                self.close()
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Request:
    """One request of a scenario and the answer it expects."""

    __slots__ = ("method", "path", "body", "token", "expect")

    def __init__(self, method, path, body=None, token=None, expect=(200,)):
        self.method, self.path, self.body, self.token, self.expect = (
            method,
            path,
            body,
            token,
            expect,
        )


def drive(port: int, requests: list[Request], concurrency: int) -> list[dict]:
    """Sends the requests from `concurrency` threads, each with its own
    connection; one record per request: latency, status, whether expected."""
    records: list[dict | None] = [None] * len(requests)
    lock = threading.Lock()
    position = iter(range(len(requests)))

    def worker() -> None:
        client = Client(port)
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                req = requests[index]
                started = time.perf_counter()
                try:
                    status, payload = client.request(req.method, req.path, req.body, req.token)
                except (OSError, http.client.HTTPException) as exc:
                    status, payload = None, f"{type(exc).__name__}: {exc}".encode()
                    client.close()
                ended = time.perf_counter()
                ok = status in req.expect
                records[index] = {
                    "start": started,
                    "end": ended,
                    "status": status,
                    "ok": ok,
                    "detail": None if ok else payload[:300].decode(errors="replace"),
                    "path": req.path,
                }
        finally:
            client.close()

    threads = [
        threading.Thread(target=worker, daemon=True) for _ in range(min(concurrency, len(requests)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
    return [r for r in records if r is not None]


def summarize(records: list[dict], wall: float | None = None) -> dict:
    """Median, p95 and throughput of a scenario's records; its errors."""
    latencies = sorted((r["end"] - r["start"]) * 1000 for r in records)
    errors = [r for r in records if not r["ok"]]
    samples = Counter(f"{r['status']} {r['detail']}"[:200] for r in errors)
    return {
        "requests": len(records),
        "errors": len(errors),
        "error_samples": [f"{n} x {text}" for text, n in samples.most_common(3)],
        "median_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 2) if latencies else None,
        "rps": round(len(records) / wall, 1) if wall else None,
        "wall_s": round(wall, 3) if wall else None,
    }


def percentile(sorted_values: list[float], pct: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(pct) - 1]


def measured(port: int, requests: list[Request], concurrency: int) -> tuple[list[dict], float]:
    records = drive(port, requests, concurrency)
    wall = max(r["end"] for r in records) - min(r["start"] for r in records)
    return records, wall
