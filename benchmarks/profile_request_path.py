"""Where the time of the generated app's authenticated list endpoint goes: py-spy samples the server under load.

    python benchmarks/profile_request_path.py --py-spy PATH [--rows 1000] [--session-backend database] [--seconds 15]

The service is generated, installed, migrated, seeded and served exactly as the floor and index benchmarks do it
(phase 1, production settings, one worker pinned to its own CPU); wrk (or http_load.py) loads
`GET /items?status=open&sort=-created_at&limit=20` while py-spy, pinned with the load generator, samples the uvicorn
process. Prints the functions holding the most samples, by own time and by inclusive time, and keeps py-spy's raw
collapsed stacks (`--output`) for a flame graph. py-spy is not a dependency of phaseup: `pip install py-spy`.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import http_benchmarks
from benchmarks.measure import BenchmarkError
from benchmarks.run import FULL
from benchmarks.toolchain import install_phaseup

SAMPLES_PER_S = 200


def _python_process(pid: int) -> int:
    """The uvicorn interpreter under the server's process (taskset exec's uv, which runs Python as a child)."""
    pending = [pid]
    while pending:
        current = pending.pop()
        if "python" in Path(f"/proc/{current}/exe").resolve().name:
            return current
        for task in Path(f"/proc/{current}/task").iterdir():
            pending += [int(child) for child in (task / "children").read_text().split()]
    raise BenchmarkError(f"no Python process under the server's process {pid}")


def _frame(frame: str) -> str:
    """`function (path/to/module.py:line)` -> `function (module.py)`: one entry per function, not per line."""
    name, _, location = frame.partition(" (")
    return f"{name} ({Path(location.rsplit(':', 1)[0]).name})" if location else name


def summarise(collapsed: str, top: int) -> str:
    """The functions with the most samples by own time (the innermost frame) and by inclusive time."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_frame(frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for function in set(frames):
            inclusive[function] += count
    lines = [f"{total} samples"]
    for title, counter in (("own time", own), ("inclusive time", inclusive)):
        lines += ["", f"top {top} by {title}:"]
        lines += [f"  {100 * count / total:5.1f}%  {function}" for function, count in counter.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--py-spy", required=True, help="path of the py-spy executable")
    parser.add_argument("--rows", type=int, default=1_000, help="items in the table (default 1000)")
    parser.add_argument("--session-backend", choices=("database", "redis"), default="database")
    parser.add_argument("--seconds", type=int, default=15, help="seconds of load sampled (default 15)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per ranking (default 25)")
    parser.add_argument("--gil", action="store_true", help="sample only the thread holding the GIL (Python's CPU)")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "profile.txt",
        help="py-spy's raw collapsed stacks (default benchmarks/results/profile.txt, which git ignores)",
    )
    http_benchmarks.add_arguments(parser)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="phaseup-profile-"))
    sizes = dataclasses.replace(FULL, session_backends=(args.session_backend,))
    phaseup = install_phaseup(scratch, None)
    setup = http_benchmarks.HttpSetup(lambda: phaseup, scratch, args, sizes)
    try:
        service = setup.start(1, "profile", session_backend=args.session_backend)
        cookies = http_benchmarks.seed(service, args.rows, sizes.logged_in_users)
        port, path = service.server.port, http_benchmarks.LIST_PATH
        setup.load.run(port, path, cookies, sizes.warmup_s)
        record = [
            args.py_spy, "record", "--pid", str(_python_process(service.server.process.pid)), "--nonblocking",
            "--rate", str(SAMPLES_PER_S), "--duration", str(args.seconds), "--format", "raw", "--output",
            str(args.output),
            *(["--gil"] if args.gil else []),
        ]  # fmt: skip
        if setup.load.cpus:  # the sampler shares the load generator's CPU, not the server's
            record = ["taskset", "--cpu-list", setup.load.cpus, *record]
        sampler = subprocess.Popen(record, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        result = setup.load.run(port, path, cookies, args.seconds)
        _, errors = sampler.communicate(timeout=args.seconds + 60)
        if sampler.returncode != 0:
            raise BenchmarkError(f"py-spy failed:\n{errors}")
    finally:
        setup.close()
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"GET {path}, {args.rows:,} rows, {args.session_backend} sessions ({setup.pinning}; {setup.load.name}): "
        f"{result.requests_per_s:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms under sampling"
    )
    sampled = "the thread holding the GIL" if args.gil else "every thread py-spy does not judge idle"
    print(f"py-spy: {SAMPLES_PER_S} samples/s for {args.seconds} s, of {sampled}")
    print(summarise(args.output.read_text(encoding="utf-8"), args.top))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        sys.exit(f"profile_request_path: error: {error}")
