"""The load generator, pinned to its own CPUs: wrk when it is installed, else benchmarks/http_load.py.

Both run closed-loop keep-alive connections and print one `LOAD_JSON {...}` line with the same figures (wrk through
wrk_report.lua), so every benchmark reads them the same way. One run of the benchmarks uses one generator throughout,
so its ratios compare like with like; the JSON report names the generator.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import BenchmarkError, run_command

BENCHMARKS_DIR = Path(__file__).resolve().parent
WRK_SCRIPT = BENCHMARKS_DIR / "wrk_report.lua"
PYTHON_LOAD = BENCHMARKS_DIR / "http_load.py"


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
    wrk: str | None  # wrk's path; None to use benchmarks/http_load.py

    @property
    def name(self) -> str:
        return "wrk" if self.wrk else "benchmarks/http_load.py (asyncio; wrk is not installed)"

    def run(self, port: int, path: str, cookies: list[str], seconds: float) -> LoadResult:
        """Closed-loop load on one path for `seconds`; every response must be 2xx/3xx, or nothing was measured."""
        url = f"http://127.0.0.1:{port}"
        if self.wrk:
            command = [
                self.wrk, "--threads", "1", "--connections", str(self.connections),
                "--duration", f"{max(1, round(seconds))}s", "--timeout", "60s", "--script", str(WRK_SCRIPT),
                url, "--", path, *cookies,
            ]  # fmt: skip
        else:
            command = [
                sys.executable, str(PYTHON_LOAD), "--connections", str(self.connections),
                "--duration", f"{max(1, round(seconds))}", url, "--", path, *cookies,
            ]  # fmt: skip
        if self.cpus:
            command = ["taskset", "--cpu-list", self.cpus, *command]
        output = run_command(command, timeout=seconds + 120).stdout
        line = next((line for line in output.splitlines() if line.startswith("LOAD_JSON ")), None)
        if line is None:
            raise BenchmarkError(f"the load generator printed no report:\n{output}")
        figures = json.loads(line.removeprefix("LOAD_JSON "))
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
