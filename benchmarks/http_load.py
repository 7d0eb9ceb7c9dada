"""A closed-loop HTTP/1.1 load generator in plain asyncio, for machines without wrk.

    python benchmarks/http_load.py --connections 8 --duration 10 http://127.0.0.1:8000 -- /path [cookie ...]

Like wrk with `wrk_report.lua`: each keep-alive connection sends its next GET when the previous answer is complete,
the requests rotate over the given Cookie header values, and one `LOAD_JSON {...}` line reports the requests, the
duration and the latency percentiles of the completed requests (microseconds), and the errors by kind. Standard library
only, so it runs wherever the benchmarks' Python does; one Python process is slower than wrk, so on a fast endpoint it
can be the bottleneck, which is why the benchmarks use wrk when it is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

REQUEST_TIMEOUT_S = 60  # as wrk's --timeout in the benchmarks


class ReadError(Exception):
    """The server closed the connection or sent something that is not an HTTP/1.1 response."""


@dataclass
class Tally:
    latencies_us: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length or chunked body) and return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ReadError(f"not an HTTP/1.x status line: {status_line!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF; the last chunk (0) has an empty body
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return int(parts[1])


async def connection(host: str, port: int, requests: Iterator[bytes], deadline: float, tally: Tally) -> None:
    """One keep-alive connection sending requests back to back until the deadline; reconnects after an error."""
    while time.perf_counter() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            tally.errors["connect_errors"] += 1
            await asyncio.sleep(0.01)
            continue
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    writer.write(next(requests))
                    await writer.drain()
                except OSError:
                    tally.errors["write_errors"] += 1
                    break
                try:
                    status = await asyncio.wait_for(read_response(reader), timeout=REQUEST_TIMEOUT_S)
                except TimeoutError:
                    tally.errors["timeouts"] += 1
                    break
                except (OSError, ValueError, ReadError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    tally.errors["read_errors"] += 1
                    break
                tally.latencies_us.append((time.perf_counter() - started) * 1e6)
                if not 200 <= status < 400:
                    tally.errors["non_2xx_3xx"] += 1
        finally:
            writer.close()


def percentile(sorted_values: list[float], percent: float) -> float:
    """Nearest-rank percentile; 0 when nothing completed."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def generate_load(
    url: str, path: str, cookies: list[str], connections: int, duration_s: float
) -> dict[str, float]:
    target = urlsplit(url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    authority = f"{host}:{port}"
    variants = [f"Cookie: {cookie}\r\n" for cookie in cookies] or [""]
    requests = itertools.cycle(
        f"GET {path} HTTP/1.1\r\nHost: {authority}\r\n{variant}\r\n".encode("latin-1") for variant in variants
    )
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration_s
    await asyncio.gather(*(connection(host, port, requests, deadline, tally) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies = sorted(tally.latencies_us)
    return {
        "requests": len(latencies),
        "duration_us": round(elapsed * 1e6),
        "p50_us": percentile(latencies, 50),
        "p90_us": percentile(latencies, 90),
        "p99_us": percentile(latencies, 99),
        "max_us": latencies[-1] if latencies else 0.0,
        **{kind: tally.errors[kind] for kind in ("connect_errors", "read_errors", "write_errors", "non_2xx_3xx")},
        "timeouts": tally.errors["timeouts"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument("url", help="http://host:port")
    parser.add_argument("path", help="the path to GET")
    parser.add_argument("cookies", nargs="*", help="Cookie header values to rotate over")
    args = parser.parse_args(argv)
    figures = asyncio.run(generate_load(args.url, args.path, args.cookies, args.connections, args.duration))
    print("LOAD_JSON " + json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
