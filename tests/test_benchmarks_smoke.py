"""The benchmarks never rot: smoke mode runs every one of them with tiny sizes and must report figures.

Timings are not checked (CI machines vary); that every benchmark ran, measured and wrote its report is.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import REPO_ROOT

BENCHMARKS = ("generation", "upgrade", "index", "middleware", "cache", "floor")
TEMPLATE_PACKAGE = REPO_ROOT / "template" / "src" / "{{ project_slug }}"


def _template_has_cache_settings() -> bool:
    """A cache_* settings field in any module: features declare their settings in their own modules."""
    modules = (path for path in TEMPLATE_PACKAGE.rglob("*") if path.suffix in (".py", ".jinja"))
    return any(re.search(r"^    cache_\w+:", path.read_text(encoding="utf-8"), re.MULTILINE) for path in modules)


@pytest.mark.xdist_group("benchmarks")
def test_every_benchmark_runs_and_reports_in_smoke_mode(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--smoke", "--json", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # a guard against a hang, not a timing check: the run takes minutes on a busy shared machine
        check=False,
    )
    assert result.returncode == 0, f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"

    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["mode"] == "smoke"
    assert document["machine"]["cpus"] >= 1
    assert set(document["benchmarks"]) == set(BENCHMARKS)
    for name, report in document["benchmarks"].items():
        assert name in result.stdout  # the printed table names every benchmark
        if name == "cache" and not _template_has_cache_settings():
            # Until the phase-2 cache exists the benchmark must say so, not invent figures.
            assert report["status"] == "not measurable" and "cache" in report["reason"]
            continue
        assert report["status"] == "ok", report
        assert report["cases"] and report["ratios"], report
        for case in report["cases"]:
            assert case["median"], case
            for value in case["median"].values():
                assert math.isfinite(value) and value > 0, case
        for ratio in report["ratios"]:
            assert math.isfinite(ratio["median"]) and ratio["median"] > 0, ratio


def test_subprocesses_find_the_test_environments_own_tools() -> None:
    """The generated project's `make serve` calls uv, which may exist only in the test virtualenv's bin directory."""
    venv_bin = Path(sys.executable).parent
    assert shutil.which("uv") == str(venv_bin / "uv")
    assert subprocess.run(["uv", "--version"], capture_output=True, check=False).returncode == 0


class RecordingHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 answers of both body framings; records the Cookie headers it receives."""

    protocol_version = "HTTP/1.1"
    cookies_seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        RecordingHandler.cookies_seen.append(self.headers.get("Cookie", ""))
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            return
        status = 500 if self.path == "/broken" else 200
        body = b'{"status": "ok"}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    RecordingHandler.cookies_seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def load(port: int, path: str, *cookies: str) -> dict[str, float]:
    """Run benchmarks/http_load.py as the benchmarks do when wrk is missing; return its report."""
    command = [sys.executable, "benchmarks/http_load.py", "--connections", "2", "--duration", "1"]
    result = subprocess.run(
        [*command, f"http://127.0.0.1:{port}", "--", path, *cookies],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("LOAD_JSON ")]
    return json.loads(line.removeprefix("LOAD_JSON "))


@pytest.mark.parametrize("path", ["/items", "/chunked"])
def test_the_python_load_generator_reports_like_wrk(http_server: int, path: str) -> None:
    report = load(http_server, path, "session=a", "session=b")

    assert report["requests"] > 10
    assert report["requests"] == len(RecordingHandler.cookies_seen)
    assert set(RecordingHandler.cookies_seen) == {"session=a", "session=b"}
    assert 0 < report["p50_us"] <= report["p90_us"] <= report["p99_us"] <= report["max_us"]
    assert 0.9e6 < report["duration_us"] < 30e6
    errors = ("connect_errors", "read_errors", "write_errors", "non_2xx_3xx", "timeouts")
    assert {kind: report[kind] for kind in errors} == dict.fromkeys(errors, 0)


def test_the_python_load_generator_counts_error_answers(http_server: int) -> None:
    report = load(http_server, "/broken")
    assert report["requests"] > 0
    assert report["non_2xx_3xx"] == report["requests"]
