"""The features' checks of `phaseup check`: each feature a project has is still wired in.

One check per enabled feature, `feature-<name>`, keyed on the features (never the phase): what the feature declares in
features.yml (its compose services, its settings documented in .env.example), its plug-in still listed in
features/enabled.py when the template gives it one, plus an extra check of its own for a feature that needs one
(`EXTRA_CHECKS`, e.g. the pooler's migration URL).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from generator.check_practices import Outcome, ProjectFiles, Unreadable
from generator.contract import Feature
from generator.template_source import template_root

_ASSIGNMENT = re.compile(r"^(?P<comment>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def feature_outcomes(project: ProjectFiles) -> list[tuple[str, Outcome]]:
    """(check id, outcome) for every enabled feature, in the contract's order."""
    return [
        (f"feature-{name}", _feature_outcome(project, feature))
        for name, feature in project.contract.items()
        if name in project.features
    ]


def _feature_outcome(project: ProjectFiles, feature: Feature) -> Outcome:
    for check in (_services_present, _settings_documented, _plugged_in, EXTRA_CHECKS.get(feature.name)):
        if check is None:
            continue
        outcome = check(project, feature)
        if outcome is not None:
            return outcome
    return Outcome("pass", f"{feature.name} is wired in (its services, settings and plug-in are in place)")


def _services_present(project: ProjectFiles, feature: Feature) -> Outcome | None:
    if not feature.services:
        return None
    compose = project.root / "compose.yaml"
    services = _compose(project).get("services") or {}
    missing = [service for service in feature.services if service not in services]
    if missing:
        line = _line(compose, "services:")
        return Outcome(
            "fail", f"compose.yaml has no `{missing[0]}` service ({feature.name})", project.where(compose, line)
        )
    return None


def _settings_documented(project: ProjectFiles, feature: Feature) -> Outcome | None:
    settings = feature.required_settings + feature.optional_settings
    if not settings:
        return None
    documented = {name for name, _, _ in env_example(project)}
    missing = [name for name in settings if name not in documented]
    if missing:
        return Outcome(
            "fail",
            f".env.example does not document {missing[0]}, a setting of {feature.name}",
            project.where(project.root / ".env.example"),
        )
    return None


def _plugged_in(project: ProjectFiles, feature: Feature) -> Outcome | None:
    """A feature whose template has a plug-in module (features/<name>.py) must be listed in ENABLED_FEATURES."""
    template_features = template_root() / "template" / "src" / "{{ project_slug }}" / "features"
    if not any(f"features.{feature.name} %}}{feature.name}.py" in path.name for path in template_features.iterdir()):
        return None
    enabled = project.package / "features" / "enabled.py"
    plug_in = f"{feature.name}_feature"
    if not enabled.is_file():
        return Outcome("fail", f"{project.where(enabled)} is gone: {plug_in} is not plugged in", None)
    tree = project.tree(enabled)
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if any(isinstance(target, ast.Name) and target.id == "ENABLED_FEATURES" for target in targets):
            listed = {element.id for element in getattr(value, "elts", []) if isinstance(element, ast.Name)}
            if plug_in in listed:
                return None
            return Outcome(
                "fail",
                f"ENABLED_FEATURES does not list {plug_in}: the {feature.name} feature is never plugged into the app",
                project.where(enabled, node.lineno),
            )
    return Outcome("fail", f"{project.where(enabled)} defines no ENABLED_FEATURES list", project.where(enabled))


def _worker_present(project: ProjectFiles, feature: Feature) -> Outcome | None:
    worker = project.package / "worker.py"
    if not worker.is_file():
        return Outcome(
            "fail", f"{project.where(worker)} (the Celery app the worker runs) is gone", project.where(project.package)
        )
    return None


def _pooler_separate_migration_url(project: ProjectFiles, feature: Feature) -> Outcome | None:
    """Migrations take session-level locks and run DDL that PgBouncer's transaction mode cannot carry: wherever the app
    goes through the pooler (DATABASE_POOLED=true), DATABASE_MIGRATION_URL must be set and bypass it."""
    env_path = project.root / ".env.example"
    values = {name: (value, line) for name, value, line in env_example(project) if value is not None}
    if _is_true(values.get("DATABASE_POOLED", ("", 0))[0]):
        migration = values.get("DATABASE_MIGRATION_URL")
        if migration is None or migration[0] == values.get("DATABASE_URL", (None, 0))[0]:
            line = migration[1] if migration else values["DATABASE_POOLED"][1]
            return Outcome(
                "fail",
                ".env.example goes through PgBouncer, and DATABASE_MIGRATION_URL does not bypass it",
                project.where(env_path, line),
            )
    compose = project.root / "compose.yaml"
    pooled = 0
    for name, service in (_compose(project).get("services") or {}).items():
        environment = _environment(service)
        if not _is_true(environment.get("DATABASE_POOLED", "")):
            continue
        pooled += 1
        url = environment.get("DATABASE_MIGRATION_URL")
        if url is None or url == environment.get("DATABASE_URL"):
            return Outcome(
                "fail",
                f"compose service {name} goes through PgBouncer, and its DATABASE_MIGRATION_URL does not bypass it",
                project.where(compose, _line(compose, f"  {name}:")),
            )
    if not pooled:
        return Outcome(
            "fail", "no compose service goes through PgBouncer (DATABASE_POOLED=true)", project.where(compose)
        )
    return None


def _rabbitmq_url_where_celery_runs(project: ProjectFiles, feature: Feature) -> Outcome | None:
    """RABBITMQ_URL is a required setting: every compose service that runs Celery (worker, beat) must get it, or it
    fails at start-up; .env.example must set it for a process on the host."""
    values = {name: value for name, value, _ in env_example(project) if value is not None}
    if not values.get("RABBITMQ_URL"):
        return Outcome(
            "fail",
            ".env.example does not set RABBITMQ_URL (the job broker)",
            project.where(project.root / ".env.example"),
        )
    compose = project.root / "compose.yaml"
    for name, service in (_compose(project).get("services") or {}).items():
        command = service.get("command") if isinstance(service, dict) else None
        runs_celery = "celery" in (command if isinstance(command, list) else str(command or "").split())
        if runs_celery and not _environment(service).get("RABBITMQ_URL"):
            return Outcome(
                "fail",
                f"compose service {name} runs Celery without RABBITMQ_URL: it cannot reach the job broker",
                project.where(compose, _line(compose, f"  {name}:")),
            )
    return None


def _is_true(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


EXTRA_CHECKS: dict[str, Callable[[ProjectFiles, Feature], Outcome | None]] = {
    "jobs": _worker_present,
    "pooler": _pooler_separate_migration_url,
    "rabbitmq": _rabbitmq_url_where_celery_runs,
}


def env_example(project: ProjectFiles) -> list[tuple[str, str | None, int]]:
    """(name, value or None when commented out, line) of every variable .env.example documents."""
    path = project.root / ".env.example"
    if not path.is_file():
        raise Unreadable(".env.example is gone: the settings are documented nowhere", None)
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _ASSIGNMENT.match(line.strip())
        if match:
            value = None if match["comment"] else match["value"].strip().strip("\"'")
            found.append((match["name"], value, number))
    return found


def _compose(project: ProjectFiles) -> dict[str, Any]:
    path = project.root / "compose.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise Unreadable(f"cannot read compose.yaml: {error}", "compose.yaml") from None
    return document if isinstance(document, dict) else {}


def _environment(service: Any) -> dict[str, str]:
    environment = service.get("environment") if isinstance(service, dict) else None
    if isinstance(environment, list):
        return dict(str(item).partition("=")[::2] for item in environment)
    return {str(key): str(value) for key, value in (environment or {}).items()}


def _line(path: Path, text: str) -> int | None:
    """The number of the line that is `text` (trailing blanks and comments aside)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return next((number for number, line in enumerate(lines, 1) if line.split(" #")[0].rstrip() == text), None)
