"""Timing, medians, paired ratios and the report every benchmark returns."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Sizes:
    """How much work each benchmark does; smoke mode only proves that everything runs and reports."""

    repeats: int
    duration_s: float  # one load-generator run
    warmup_s: float  # load before each measured run, not recorded
    row_counts: tuple[int, int]  # the index benchmark's small and large table
    logged_in_users: int  # the load rotates over this many users' sessions
    session_backends: tuple[str, ...]  # the session stores the middleware and cache benchmarks cover


class BenchmarkError(RuntimeError):
    """A benchmark could not run (missing tool or service, a command failed): the message says what to do."""


@dataclass
class Case:
    """One thing measured repeatedly; `runs` maps a metric (e.g. "wall_s", "req_per_s") to its value per repeat."""

    label: str
    runs: dict[str, list[float]] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, metric: str, value: float) -> None:
        self.runs.setdefault(metric, []).append(value)

    def median(self, metric: str) -> float:
        return statistics.median(self.runs[metric])


@dataclass
class Ratio:
    """numerator / denominator of one metric, paired repeat by repeat (both measured back to back), then the median.

    Pairing per repeat rather than dividing the two medians keeps a load change between repeats, which hits both
    sides of a pair alike, out of the ratio.
    """

    label: str
    numerator: Case
    denominator: Case
    metric: str

    @property
    def values(self) -> list[float]:
        pairs = zip(self.numerator.runs[self.metric], self.denominator.runs[self.metric], strict=True)
        return [top / bottom for top, bottom in pairs]

    @property
    def median(self) -> float:
        return statistics.median(self.values)


@dataclass
class Report:
    """What one benchmark found: its cases, the ratios between them, and notes that explain the figures."""

    name: str
    title: str
    cases: list[Case] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_measurable: str | None = None  # why, when the thing to measure does not exist yet

    def case(self, label: str) -> Case:
        found = Case(label)
        self.cases.append(found)
        return found

    def ratio(self, label: str, numerator: Case, denominator: Case, metric: str) -> None:
        self.ratios.append(Ratio(label, numerator, denominator, metric))

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "status": "not measurable" if self.not_measurable else "ok",
            "reason": self.not_measurable,
            "cases": [
                {
                    "label": case.label,
                    "median": {metric: case.median(metric) for metric in case.runs},
                    "runs": case.runs,
                    "facts": case.facts,
                }
                for case in self.cases
            ],
            "ratios": [
                {
                    "label": ratio.label,
                    "metric": ratio.metric,
                    "numerator": ratio.numerator.label,
                    "denominator": ratio.denominator.label,
                    "median": ratio.median,
                    "per_repeat": ratio.values,
                }
                for ratio in self.ratios
            ],
            "notes": self.notes,
        }


def rotated(items: Sequence[Any], repeat: int) -> list[Any]:
    """The cases in a different order each repeat, so none always runs first (cold) or last (warm)."""
    shift = repeat % len(items)
    return [*items[shift:], *items[:shift]]


def run_command(
    command: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; fail with its output when it exits with a code outside `ok_codes`."""
    printable = " ".join(str(part) for part in command)
    try:
        result = subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as error:
        raise BenchmarkError(f"{printable}: {error.strerror}: {error.filename}") from None
    if result.returncode not in ok_codes:
        raise BenchmarkError(
            f"{printable} exited {result.returncode} (in {cwd or os.getcwd()})\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def timed_command(
    command: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall time in seconds of one command, process start-up included (that is what a user waits for)."""
    start = time.perf_counter()
    result = run_command(command, cwd=cwd, env=env, ok_codes=ok_codes)
    return time.perf_counter() - start, result
