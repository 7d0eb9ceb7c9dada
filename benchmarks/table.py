"""The results as a table: plain text for the terminal, Markdown for RESULTS.md."""

from __future__ import annotations

from typing import Any

METRIC_FORMATS = {
    "wall_s": ("wall time", "{:.2f} s"),
    "req_per_s": ("req/s", "{:,.0f} req/s"),
    "p50_ms": ("p50", "p50 {:.1f} ms"),
    "p99_ms": ("p99", "p99 {:.1f} ms"),
    "query_ms": ("query", "query {:.2f} ms"),
}


def _figures(medians: dict[str, float]) -> str:
    return "  ".join(
        METRIC_FORMATS.get(metric, (metric, metric + " {:.3g}"))[1].format(value) for metric, value in medians.items()
    )


def rows(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(benchmark, case or ratio, figures) for every case and ratio; a benchmark that did not run gets one row."""
    table: list[tuple[str, str, str]] = []
    for name, result in results.items():
        if result["status"] != "ok":
            table.append((name, result["status"].upper(), result["reason"].splitlines()[0]))
            continue
        for case in result["cases"]:
            table.append((name, case["label"], _figures(case["median"])))
        for ratio in result["ratios"]:
            metric = METRIC_FORMATS.get(ratio["metric"], (ratio["metric"], ""))[0]
            table.append((name, f"ratio {ratio['label']} ({metric})", f"{ratio['median']:.2f}x"))
    return table


def text(results: dict[str, dict[str, Any]]) -> str:
    table = [("benchmark", "case", "median"), *rows(results)]
    widths = [max(len(row[column]) for row in table) for column in range(2)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}" for row in table]
    lines += [f"note [{name}]: {note}" for name, result in results.items() for note in result.get("notes", [])]
    return "\n".join(lines)


def markdown(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| benchmark | case | median |", "|---|---|---|"]
    lines += [f"| {name} | {label} | {figures} |" for name, label, figures in rows(results)]
    return "\n".join(lines)
