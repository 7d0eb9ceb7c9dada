"""The load generator: Debian's wrk, pinned to its own CPUs, reporting through wrk_report.lua."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import BenchmarkError, run_command

SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchmarkError(
            "the HTTP benchmarks need the wrk load generator: install Debian's package `wrk` (apt-get install -y wrk)"
        )
    return path


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int


@dataclass(frozen=True)
class LoadGenerator:
    connections: int
    cpus: str | None  # taskset CPU list, None when the machine has too few CPUs to separate

    def run(self, port: int, path: str, cookies: list[str], seconds: float) -> LoadResult:
        """Closed-loop load on one path for `seconds`; every response must be 2xx/3xx, or nothing was measured."""
        command = [
            require_wrk(), "--threads", "1", "--connections", str(self.connections),
            "--duration", f"{max(1, round(seconds))}s", "--timeout", "60s", "--script", str(SCRIPT),
            f"http://127.0.0.1:{port}", "--", path, *cookies,
        ]  # fmt: skip
        if self.cpus:
            command = ["taskset", "--cpu-list", self.cpus, *command]
        output = run_command(command, timeout=seconds + 120).stdout
        line = next((line for line in output.splitlines() if line.startswith("WRK_JSON ")), None)
        if line is None:
            raise BenchmarkError(f"wrk printed no report:\n{output}")
        figures = json.loads(line.removeprefix("WRK_JSON "))
        failures = {
            key: figures[key] for key in ("connect_errors", "read_errors", "write_errors", "non_2xx_3xx", "timeouts")
        }
        if any(failures.values()) or figures["requests"] == 0:
            raise BenchmarkError(f"GET {path} under load failed: {failures}, {figures['requests']} requests\n{output}")
        return LoadResult(
            requests_per_s=figures["requests"] / (figures["duration_us"] / 1e6),
            p50_ms=figures["p50_us"] / 1000,
            p99_ms=figures["p99_us"] / 1000,
            requests=figures["requests"],
        )
