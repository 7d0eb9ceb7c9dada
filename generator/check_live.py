"""The live half of `phaseup check --url`: read the running service's /readyz and /metrics, and say whether it is
time for the next phase.

/metrics is scraped at the start and the end of a window, and sampled every second in between: counters and
histograms are read as the difference between the first and the last scrape (so the numbers are the window's, not
the process's lifetime), gauges at every sample (the pool is saturated in 40% of the samples). The metric names are
the generated app's own (observability/metrics.py, observability/collectors.py, adapters/cache.py); a signal whose
metric the service does not export (a phase-1 app has no replica lag) is left out.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from generator.errors import PhaseupError

# The service's own probes and phaseup's scrapes are not traffic.
PROBE_ROUTES = frozenset({"/metrics", "/livez", "/readyz"})
NEXT_PHASE, TUNE = "next-phase", "tune"

# Defaults of [tool.phaseup.check] in the project's pyproject.toml; README.md documents each one.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "request_rate": 50.0,  # requests per second, probes excluded
    "p95_latency_seconds": 0.5,  # any route's p95
    "p99_latency_seconds": 1.0,  # any route's p99
    "error_rate": 0.01,  # share of responses that are 5xx
    "pool_saturation": 0.25,  # share of samples in which an engine had every pooled connection checked out
    "replica_lag_seconds": 5.0,  # the highest sampled lag
    "cache_hit_ratio": 0.8,  # hits / (hits + misses + errors), judged when below
    "queue_depth": 100.0,  # the highest sampled number of jobs waiting
    "min_requests": 100.0,  # fewer requests than this in the window: latency and error rate are not judged
}


@dataclass(frozen=True)
class Signal:
    id: str
    value: float
    unit: str
    threshold: float | None
    breached: bool
    subject: str | None = None  # the route ("GET /items") or the engine ("writer")
    suggests: str = NEXT_PHASE  # what a breach calls for: the next phase, or tuning within this one

    @property
    def label(self) -> str:
        return f"{self.id} {self.subject}" if self.subject else self.id

    def describe(self) -> str:
        comparison = "below" if self.id == "cache_hit_ratio" else "over"
        threshold = format_value(self.threshold or 0, self.unit)
        return f"{self.label} is {format_value(self.value, self.unit)} ({comparison} {threshold})"


@dataclass(frozen=True)
class Recommendation:
    action: str  # stay, next-phase, tune, scale-out
    phase: int  # the phase to be at
    message: str
    triggered_by: list[Signal] = field(default_factory=list)


@dataclass(frozen=True)
class LiveReport:
    url: str
    window_seconds: float
    ready: bool
    readiness: dict[str, Any]
    signals: list[Signal]
    recommendation: Recommendation


def format_value(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "s":
        return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.3g} s"
    if unit == "req/s":
        return f"{value:.1f} req/s"
    return f"{value:g}{' ' + unit if unit else ''}"


class _Scrape:
    """One /metrics exposition as {metric sample name: [(labels, value)]}."""

    def __init__(self, text: str, taken_at: float) -> None:
        self.taken_at = taken_at
        self.samples: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        try:
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    self.samples[sample.name].append((dict(sample.labels), float(sample.value)))
        except ValueError as error:
            raise PhaseupError(f"/metrics is not a Prometheus exposition: {error}") from None

    def total(self, name: str, **labels: str) -> dict[tuple[tuple[str, str], ...], float]:
        """Values of `name` summed over the labels not named, keyed by the named ones' values."""
        totals: dict[tuple[tuple[str, str], ...], float] = defaultdict(float)
        for sample_labels, value in self.samples.get(name, []):
            key = tuple((label, sample_labels.get(label, "")) for label in labels)
            totals[key] += value
        return totals


def read_service(
    url: str, *, token: str | None, window: float, thresholds: dict[str, float], phase: int, last_phase: int
) -> LiveReport:
    """Scrape the service over `window` seconds and judge its signals against `thresholds`."""
    base = url.rstrip("/")
    status, readiness = _readiness(base)
    first = _scrape(base, token)
    samples = [first]
    deadline = first.taken_at + window
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(1.0, remaining))
        samples.append(_scrape(base, token))
    signals = signals_of(samples, thresholds)
    return LiveReport(
        url=base,
        window_seconds=round(samples[-1].taken_at - first.taken_at, 1),
        ready=status == 200,
        readiness=readiness,
        signals=signals,
        recommendation=recommend(signals, phase=phase, last_phase=last_phase),
    )


def _get(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "*/*", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PhaseupError(f"cannot reach {url}: {reason}") from None
    except ValueError as error:
        raise PhaseupError(f"not a URL: {url} ({error})") from None


def _readiness(base: str) -> tuple[int, dict[str, Any]]:
    status, body = _get(f"{base}/readyz", {})
    try:
        readiness = json.loads(body)
    except ValueError:
        readiness = {}
    if status not in {200, 503} or not isinstance(readiness, dict):
        raise PhaseupError(f"{base}/readyz answered {status}, not the service's readiness probe")
    return status, readiness


def _scrape(base: str, token: str | None) -> _Scrape:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body = _get(f"{base}/metrics", headers)
    if status == 401:
        raise PhaseupError(f"{base}/metrics wants METRICS_TOKEN: pass it with --metrics-token or $METRICS_TOKEN")
    if status == 404:
        raise PhaseupError(f"{base}/metrics is not served (in production, set METRICS_TOKEN on the service)")
    if status != 200:
        raise PhaseupError(f"{base}/metrics answered {status}")
    return _Scrape(body.decode("utf-8", errors="replace"), time.monotonic())


def _delta(first: float, last: float) -> float:
    """A counter's increase; a restarted process starts again from zero."""
    return last - first if last >= first else last


def signals_of(samples: list[_Scrape], thresholds: dict[str, float]) -> list[Signal]:
    first, last = samples[0], samples[-1]
    elapsed = max(last.taken_at - first.taken_at, 1e-9)
    signals: list[Signal] = []

    def signal(
        id: str,
        value: float,
        unit: str,
        *,
        subject: str | None = None,
        below: bool = False,
        judged: bool = True,
        suggests: str = NEXT_PHASE,
    ) -> None:
        threshold = thresholds.get(id)
        breached = judged and threshold is not None and (value < threshold if below else value > threshold)
        signals.append(Signal(id, value, unit, threshold, breached, subject, suggests))

    # Requests by route, probes excluded, over the window.
    route_labels = {"method": "", "route": ""}
    counts = {
        key: _delta(first.total("http_requests_total", **route_labels).get(key, 0.0), value)
        for key, value in last.total("http_requests_total", **route_labels).items()
        if dict(key)["route"] not in PROBE_ROUTES
    }
    if not last.samples.get("http_requests_total"):
        return signals
    requests = sum(counts.values())
    signal("request_rate", requests / elapsed, "req/s")
    enough = requests >= thresholds["min_requests"]
    errors = sum(
        _delta(first.total("http_requests_total", **route_labels, status_class="").get(key, 0.0), value)
        for key, value in last.total("http_requests_total", **route_labels, status_class="").items()
        if dict(key)["status_class"] == "5xx" and dict(key)["route"] not in PROBE_ROUTES
    )
    signal("error_rate", errors / requests if requests else 0.0, "ratio", judged=enough, suggests=TUNE)
    for key, quantiles in _route_quantiles(first, last, counts).items():
        route = f"{dict(key)['method']} {dict(key)['route']}"
        for name, value in quantiles.items():
            signal(name, value, "s", subject=route, judged=enough)

    # Pool saturation: the share of samples in which an engine had lent out its whole pool.
    for engine in sorted({labels.get("engine", "") for labels, _ in last.samples.get("db_pool_size", [])}):
        saturated = 0
        for sample in samples:
            size = sample.total("db_pool_size", engine="").get((("engine", engine),), 0.0)
            used = sample.total("db_pool_checked_out", engine="").get((("engine", engine),), 0.0)
            saturated += size > 0 and used >= size
        signal("pool_saturation", saturated / len(samples), "ratio", subject=engine)

    lags = [value for sample in samples for _, value in sample.samples.get("db_replica_lag_seconds", [])]
    if lags:
        signal("replica_lag_seconds", max(lags), "s")
    depths = [value for sample in samples for _, value in sample.samples.get("celery_queue_length", [])]
    if depths:
        signal("queue_depth", max(depths), "jobs")
    if last.samples.get("cache_requests_total"):
        lookups = {
            dict(key)["result"]: _delta(first.total("cache_requests_total", result="").get(key, 0.0), value)
            for key, value in last.total("cache_requests_total", result="").items()
        }
        total = sum(lookups.values())
        if total:
            signal("cache_hit_ratio", lookups.get("hit", 0.0) / total, "ratio", below=True, suggests=TUNE)
    return signals


def _route_quantiles(first: _Scrape, last: _Scrape, counts: dict[Any, float]) -> dict[Any, dict[str, float]]:
    """p95 and p99 per route over the window, from the latency histogram's buckets (as PromQL's histogram_quantile)."""
    buckets: dict[Any, dict[float, float]] = defaultdict(dict)
    before = first.total("http_request_duration_seconds_bucket", method="", route="", le="")
    for key, value in last.total("http_request_duration_seconds_bucket", method="", route="", le="").items():
        labels = dict(key)
        route_key = (("method", labels["method"]), ("route", labels["route"]))
        if labels["route"] in PROBE_ROUTES or not counts.get(route_key):
            continue
        buckets[route_key][float(labels["le"])] = _delta(before.get(key, 0.0), value)
    return {
        route: {"p95_latency_seconds": _quantile(0.95, bounds), "p99_latency_seconds": _quantile(0.99, bounds)}
        for route, bounds in sorted(buckets.items())
    }


def _quantile(q: float, buckets: dict[float, float]) -> float:
    """Linear interpolation inside the bucket holding the q-th observation; the +Inf bucket answers with the highest
    finite bound, as Prometheus does."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound


def recommend(signals: Iterable[Signal], *, phase: int, last_phase: int) -> Recommendation:
    breached = [signal for signal in signals if signal.breached]
    growth = [signal for signal in breached if signal.suggests == NEXT_PHASE]
    tuning = [signal for signal in breached if signal.suggests == TUNE]
    reasons = "; ".join(signal.describe() for signal in growth + tuning)
    if growth and phase < last_phase:
        return Recommendation("next-phase", phase + 1, f"phase {phase + 1} is due: {reasons}", growth + tuning)
    if growth:
        return Recommendation(
            "scale-out", phase, f"phase {phase} is the last phase; add instances: {reasons}", growth + tuning
        )
    if tuning:
        return Recommendation("tune", phase, f"stay at phase {phase}, but look into: {reasons}", tuning)
    return Recommendation("stay", phase, f"stay at phase {phase}: every signal is within its threshold")
