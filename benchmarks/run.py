"""Run phaseup's benchmarks, print a table of medians and ratios, and write every figure to JSON.

    python benchmarks/run.py [--smoke] [--only NAME ...] [--json PATH]

See benchmarks/README.md for what each benchmark measures and what it needs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import generator_benchmarks, http_benchmarks, table
from benchmarks.measure import BenchmarkError, Report, Sizes, run_command
from benchmarks.toolchain import REPO_ROOT, Phaseup, describe_source, install_phaseup

FULL = Sizes(
    repeats=5,
    duration_s=10,
    warmup_s=2,
    row_counts=(1_000, 100_000),
    logged_in_users=8,
    session_backends=("database", "redis"),
)
SMOKE = Sizes(
    repeats=1,
    duration_s=1,
    warmup_s=0,
    row_counts=(100, 1_000),
    logged_in_users=1,
    session_backends=("database",),
)


class Context:
    """Shared by the benchmarks of one run: scratch space, phaseup built once, settings from the command line."""

    def __init__(self, args: argparse.Namespace, scratch: Path) -> None:
        self.args = args
        self.scratch = scratch
        sizes = SMOKE if args.smoke else FULL
        self.sizes = dataclasses.replace(
            sizes,
            repeats=args.repeats or sizes.repeats,
            duration_s=args.duration or sizes.duration_s,
            warmup_s=sizes.warmup_s if args.warmup is None else args.warmup,
        )
        self._phaseup: Phaseup | None = None
        self.http = http_benchmarks.HttpSetup(lambda: self.phaseup, scratch, args, self.sizes)

    @property
    def phaseup(self) -> Phaseup:
        if self._phaseup is None:
            self._phaseup = install_phaseup(self.scratch, self.args.ref)
        return self._phaseup


BENCHMARKS: dict[str, Callable[[Context], Report]] = {
    "generation": lambda ctx: generator_benchmarks.generation(ctx.phaseup, ctx.scratch, ctx.sizes.repeats),
    "upgrade": lambda ctx: generator_benchmarks.upgrade(ctx.phaseup, ctx.scratch, ctx.sizes.repeats),
    "index": lambda ctx: http_benchmarks.index(ctx.http),
    "middleware": lambda ctx: http_benchmarks.middleware(ctx.http),
    "cache": lambda ctx: http_benchmarks.cache(ctx.http),
    "floor": lambda ctx: http_benchmarks.floor(ctx.http),
}


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _first_line(command: str) -> str:
    """The first line a version command prints, or why there is none."""
    try:
        result = subprocess.run(shlex.split(command), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return "not installed"
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else ""


def describe_machine() -> dict[str, Any]:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": _first_line("psql --version"),
        "redis": _first_line("redis-server --version"),
        "wrk": _first_line("wrk --version"),
        "uv": _first_line("uv --version"),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and 1 s runs: checks everything runs")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument("--json", type=Path, help="where to write the results (default benchmarks/results/<time>.json)")
    parser.add_argument("--repeats", type=int, help="repeats per case (default 5; 1 with --smoke)")
    parser.add_argument(
        "--ref", help="benchmark this git ref (e.g. HEAD) instead of the working tree with its uncommitted changes"
    )
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory, for inspection")
    http_benchmarks.add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    selected = args.only or list(BENCHMARKS)
    if args.ref:  # pin the commit now: a commit landing during the run must not change what is measured
        args.ref = run_command(["git", "rev-parse", args.ref], cwd=REPO_ROOT).stdout.strip()
    source = describe_source(args.ref)
    started = datetime.now(UTC)
    output = args.json or REPO_ROOT / "benchmarks" / "results" / f"{started:%Y%m%dT%H%M%SZ}.json"
    scratch = Path(tempfile.mkdtemp(prefix="phaseup-bench-"))
    context = Context(args, scratch)
    load_at_start = _load_average()
    results: dict[str, dict[str, Any]] = {}
    failed = False
    try:
        for name in selected:
            print(f"[{datetime.now(UTC):%H:%M:%S}] {name} (load average {_load_average()})", flush=True)
            begin = time.perf_counter()
            try:
                try:
                    result = BENCHMARKS[name](context).to_json()
                finally:
                    context.http.close()  # stop this benchmark's servers and drop its databases
            except BenchmarkError as error:
                failed = True
                result = {"title": name, "status": "failed", "reason": str(error), "notes": []}
                print(f"  FAILED: {error}", file=sys.stderr, flush=True)
            result["seconds"] = round(time.perf_counter() - begin, 1)
            result["load_average_after"] = _load_average()
            results[name] = result
    finally:
        if args.keep:
            print(f"scratch kept at {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    document = {
        "command": shlex.join([Path(sys.executable).name, "benchmarks/run.py", *(argv or sys.argv[1:])]),
        "started": started.isoformat(timespec="seconds"),
        "mode": "smoke" if args.smoke else "full",
        "phaseup_source": source,
        "sizes": context.sizes.__dict__,
        "machine": describe_machine(),
        "load_average_1_5_15_min": {"start": load_at_start, "end": _load_average()},
        "http_setup": context.http.describe(),
        "benchmarks": results,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(
        f"\nMedians over {context.sizes.repeats} repeat(s); a ratio is the median of per-repeat ratios of two cases "
        "measured back to back.\n"
    )
    print(table.text(results))
    if args.markdown:
        args.markdown.write_text(table.markdown(results) + "\n", encoding="utf-8")
    print(f"\nresults written to {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
