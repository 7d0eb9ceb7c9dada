"""`phaseup check`: are the practices of the project's phase still in place, and is it time for the next phase?

The static half reads the project's files (generator.check_practices, generator.check_features) and reports the
template drift: the files the team changed since the template rendered them, which `phaseup update` will have to
merge. The live half (generator.check_live) reads a running service's /readyz and /metrics. The report is one object,
printed as a table by the CLI or as the JSON documented in README.md ("phaseup check").
"""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.answers import phases
from generator.check_features import feature_outcomes
from generator.check_live import DEFAULT_THRESHOLDS, LiveReport, read_service
from generator.check_practices import PRACTICES, Outcome, Practice, ProjectFiles, Unreadable
from generator.contract import feature_contract, features_of
from generator.copier_run import run_copier
from generator.errors import PhaseupError
from generator.git import git
from generator.project import Project, answers_file_name, open_project
from generator.template_source import resolve_template, template_root

JSON_SCHEMA_VERSION = 1
DRIFT = "template-drift"


@dataclass(frozen=True)
class Finding:
    id: str
    status: str  # pass, warn, fail, info
    message: str
    location: str | None = None


@dataclass(frozen=True)
class Drift:
    changed: list[str] = field(default_factory=list)  # files the team edited since the template rendered them
    deleted: list[str] = field(default_factory=list)  # files the template renders that the team removed


@dataclass(frozen=True)
class CheckReport:
    project: str
    root: Path
    phase: int
    features: list[str]
    checks: list[Finding]
    drift: Drift | None
    live: LiveReport | None = None

    @property
    def failed(self) -> bool:
        return any(finding.status == "fail" for finding in self.checks)

    def as_json(self) -> dict[str, Any]:
        """The stable JSON object of `phaseup check --format json` (README.md documents every key)."""
        document: dict[str, Any] = {
            "schema": JSON_SCHEMA_VERSION,
            "project": self.project,
            "root": str(self.root),
            "phase": self.phase,
            "features": self.features,
            "ok": not self.failed,
            "checks": [
                {"id": f.id, "status": f.status, "message": f.message, "location": f.location} for f in self.checks
            ],
            "drift": None if self.drift is None else {"changed": self.drift.changed, "deleted": self.drift.deleted},
        }
        if self.live is not None:
            live = self.live
            document["url"] = live.url
            document["window_seconds"] = live.window_seconds
            document["readiness"] = live.readiness
            document["signals"] = [
                {
                    "id": signal.id,
                    "subject": signal.subject,
                    "value": signal.value,
                    "unit": signal.unit,
                    "threshold": signal.threshold,
                    "breached": signal.breached,
                }
                for signal in live.signals
            ]
            recommendation = live.recommendation
            document["recommendation"] = {
                "action": recommendation.action,
                "phase": recommendation.phase,
                "message": recommendation.message,
                "triggered_by": [
                    {"id": signal.id, "subject": signal.subject, "value": signal.value, "threshold": signal.threshold}
                    for signal in recommendation.triggered_by
                ],
            }
        return document


def check_project(
    path: Path, *, url: str | None = None, metrics_token: str | None = None, window: float = 30.0, drift: bool = True
) -> CheckReport:
    """Run every static check on the project at `path`; with `url`, read the running service too."""
    project = open_project(path)
    thresholds = load_thresholds(project.root)
    root = template_root()
    features = features_of(root, project.answers)
    files = ProjectFiles(
        root=project.root,
        slug=str(project.answers.get("project_slug", "")),
        features=frozenset(features),
        contract=feature_contract(root),
        answers=project.answers,
    )
    checks = [_judge(practice, files) for practice in PRACTICES]
    checks += [Finding(check_id, *_fields(outcome)) for check_id, outcome in _feature_findings(files)]
    found_drift = template_drift(project) if drift else None
    checks.append(_drift_finding(project, found_drift, asked=drift))
    live = None
    if url is not None:
        live = read_service(
            url,
            token=metrics_token,
            window=window,
            thresholds=thresholds,
            phase=project.phase,
            last_phase=max(phases()),
        )
        failing = ", ".join(live.readiness.get("failing", []))
        checks.append(
            Finding("service-ready", "pass", "/readyz answers 200: every dependency is reachable")
            if live.ready
            else Finding("service-ready", "fail", f"/readyz answers 503, failing: {failing}")
        )
    return CheckReport(
        project=str(project.answers.get("project_name", project.root.name)),
        root=project.root,
        phase=project.phase,
        features=features,
        checks=checks,
        drift=found_drift,
        live=live,
    )


def _fields(outcome: Outcome) -> tuple[str, str, str | None]:
    return outcome.status, outcome.message, outcome.location


def _judge(practice: Practice, files: ProjectFiles) -> Finding:
    """One check's finding; a file it cannot read or parse fails it there."""
    try:
        return Finding(practice.id, *_fields(practice.run(files)))
    except Unreadable as error:
        return Finding(practice.id, "fail", str(error), error.location)


def _feature_findings(files: ProjectFiles) -> list[tuple[str, Outcome]]:
    try:
        return feature_outcomes(files)
    except Unreadable as error:
        return [("features", Outcome("fail", str(error), error.location))]


def load_thresholds(root: Path) -> dict[str, float]:
    """DEFAULT_THRESHOLDS, overridden by the project's `[tool.phaseup.check]` table."""
    path = root / "pyproject.toml"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PhaseupError(f"cannot read {path}: {error}") from None
    table = config.get("tool", {}).get("phaseup", {}).get("check", {})
    if not isinstance(table, dict):
        raise PhaseupError(f"{path}: [tool.phaseup.check] must be a table")
    thresholds = dict(DEFAULT_THRESHOLDS)
    for key, value in table.items():
        if key not in thresholds:
            known = ", ".join(sorted(DEFAULT_THRESHOLDS))
            raise PhaseupError(f"{path}: [tool.phaseup.check] has no setting {key!r} (known: {known})")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise PhaseupError(f"{path}: [tool.phaseup.check] {key} must be a non-negative number, not {value!r}")
        thresholds[key] = float(value)
    return thresholds


# --- template drift ------------------------------------------------------------------------------------------------


def template_drift(project: Project) -> Drift | None:
    """The project's files against the template rendered at its recorded version with its recorded answers; None when
    that version is not available here (a project from a release this machine never installed)."""
    from copier import run_copy

    source = resolve_template()
    ref = project.template_ref
    if not ref or not git(source.path, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False):
        return None
    answers = {key: value for key, value in project.answers.items() if not key.startswith("_")}
    with tempfile.TemporaryDirectory(prefix="phaseup-check-") as scratch:
        render = Path(scratch) / project.root.name
        run_copier(
            lambda: run_copy(
                str(source.path), render, data=answers, vcs_ref=ref, defaults=True, unsafe=True, quiet=True
            ),
            source.path,
        )
        changed, deleted = [], []
        for rendered in sorted(path for path in render.rglob("*") if path.is_file()):
            name = rendered.relative_to(render).as_posix()
            if name == answers_file_name():
                continue
            mine = project.root / name
            if not mine.is_file():
                deleted.append(name)
            elif _normalised(mine.read_bytes()) != _normalised(rendered.read_bytes()):
                changed.append(name)
    return Drift(changed=changed, deleted=deleted)


def _normalised(content: bytes) -> bytes:
    return content.replace(b"\r\n", b"\n")


def _drift_finding(project: Project, drift: Drift | None, *, asked: bool) -> Finding:
    if not asked:
        return Finding(DRIFT, "info", "not compared (--no-drift)")
    if drift is None:
        return Finding(
            DRIFT,
            "info",
            f"not compared: the template version {project.template_ref or '(none)'} is not available here",
        )
    if not drift.changed and not drift.deleted:
        return Finding(DRIFT, "info", "no file differs from what the template rendered")
    parts = [
        f"{len(names)} {what} ({_listed(names)})"
        for what, names in (("changed", drift.changed), ("deleted", drift.deleted))
        if names
    ]
    return Finding(DRIFT, "info", f"the team's edits since the template's render: {'; '.join(parts)}")


def _listed(names: list[str], most: int = 5) -> str:
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")
