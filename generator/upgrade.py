"""`phaseup upgrade` and `phaseup update`: re-render a project through Copier's three-way update, keeping edits.

Copier renders the template at the project's recorded version with its recorded answers, renders it again at the
new version with the new answers, and applies the difference to the project through git, so a team's edits survive
and a line both sides changed becomes an inline conflict. phaseup adds the checks that keep a user's work safe, the
phase preset, a dry run, and a summary of what the team has to do next.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
import yaml
from packaging.version import Version

from generator.answers import load_preset, parse_phase
from generator.copier_run import run_copier
from generator.errors import PhaseupError
from generator.project import Project, git, open_project, require_clean_git_root
from generator.template_source import installed_version, resolve_template, template_root

CONFLICT_MARKER = re.compile(r"^<<<<<<< ", flags=re.MULTILINE)
ENV_NAME = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", flags=re.MULTILINE)


class ConflictsLeft(PhaseupError):
    """The upgrade was applied but some files carry conflict markers to resolve by hand."""

    exit_code = 3


@dataclass
class UpgradeReport:
    from_phase: int
    to_phase: int
    from_version: str
    to_version: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)
    new_env_vars: list[str] = field(default_factory=list)
    new_services: list[str] = field(default_factory=list)
    new_migrations: list[str] = field(default_factory=list)
    diff: str = ""


def upgrade_project(path: Path, to_phase: object, *, dry_run: bool = False) -> UpgradeReport:
    """Move a project to a later phase: the phase preset is applied on top of its recorded answers."""
    project = open_project(path)
    target = parse_phase(to_phase)
    if target < project.phase:
        raise PhaseupError(f"the project is at phase {project.phase}; downgrading to phase {target} is not supported")
    if target == project.phase:
        raise PhaseupError(
            f"the project is already at phase {target}; `phaseup update` brings it to the installed template"
        )
    return _apply(project, load_preset(template_root(), target), dry_run=dry_run)


def update_project(path: Path, *, dry_run: bool = False) -> UpgradeReport:
    """Bring a project to the installed phaseup's template, keeping its phase and answers."""
    project = open_project(path)
    if project.template_version is not None and project.template_version == Version(installed_version()):
        raise PhaseupError(f"the project is already on phaseup {installed_version()}'s template; nothing to update")
    return _apply(project, {}, dry_run=dry_run)


def _apply(project: Project, data: dict[str, Any], *, dry_run: bool) -> UpgradeReport:
    require_clean_git_root(project.root)
    _refuse_newer_template(project)
    if not dry_run:
        return _update_in(project.root, project, data)
    with tempfile.TemporaryDirectory(prefix="phaseup-dry-run-") as scratch:
        clone = Path(scratch) / project.root.name
        subprocess.run(
            ["git", "clone", "--quiet", "--no-hardlinks", str(project.root), str(clone)],
            check=True,
            capture_output=True,
        )
        report = _update_in(clone, project, data)
        git(clone, "add", "--all")
        report.diff = git(clone, "diff", "--cached", "--no-color", "HEAD")
        shutil.rmtree(clone, ignore_errors=True)
    return report


def _refuse_newer_template(project: Project) -> None:
    installed = Version(installed_version())
    if project.template_version is not None and project.template_version > installed:
        raise PhaseupError(
            f"the project was last rendered by phaseup {project.template_version}, newer than the installed "
            f"{installed}: upgrade phaseup first (pip install -U phaseup)"
        )


def _update_in(root: Path, project: Project, data: dict[str, Any]) -> UpgradeReport:
    before = _facts(root)
    source = resolve_template()
    recorded_source = str(project.answers.get("_src_path", ""))
    if recorded_source and Path(recorded_source).expanduser().resolve() != source.path.resolve():
        raise PhaseupError(
            f"the project records its template at {recorded_source}, but this phaseup's template is at "
            f"{source.path}; set PHASEUP_HOME so both agree (see README: 'Where the template lives')"
        )
    if not git(source.path, "rev-parse", "--verify", "--quiet", f"{project.template_ref}^{{commit}}", check=False):
        # Copier re-renders the recorded version to find the team's edits; without it there is no three-way merge.
        raise PhaseupError(
            f"the template version the project records ({project.template_ref}) is not in {source.path}: "
            "install the phaseup release that generated it once (it adds its tag there), then run this again"
        )
    run_copier(
        lambda: copier.run_update(
            root,
            data=data,
            vcs_ref=source.ref,
            defaults=True,
            overwrite=True,
            skip_answered=True,
            unsafe=True,
            quiet=True,
            conflict="inline",
        )
    )
    after = _facts(root)
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
    report = UpgradeReport(
        from_phase=project.phase,
        to_phase=parse_phase(answers["phase"]),
        from_version=project.template_ref,
        to_version=str(answers.get("_commit", "")),
        new_env_vars=sorted(after.env_vars - before.env_vars),
        new_services=sorted(after.services - before.services),
        new_migrations=sorted(after.migrations - before.migrations),
    )
    _classify_changes(root, report)
    _leave_changes_unstaged(root, report.conflicted)
    return report


def _leave_changes_unstaged(root: Path, conflicted: list[str]) -> None:
    """Copier records conflicts as unmerged index entries; reset them so the whole upgrade is a plain work-tree
    change that `git diff` shows and `git checkout .` (plus `git clean -fd` for new files) undoes."""
    if conflicted:
        git(root, "reset", "--quiet", "--", *conflicted)


@dataclass(frozen=True)
class _Facts:
    """What a team must act on after an upgrade: settings to set, services to run, migrations to apply."""

    env_vars: set[str]
    services: set[str]
    migrations: set[str]


def _facts(root: Path) -> _Facts:
    env_example = root / ".env.example"
    env_vars = set(ENV_NAME.findall(env_example.read_text(encoding="utf-8"))) if env_example.is_file() else set()
    services: set[str] = set()
    compose = root / "compose.yaml"
    if compose.is_file():
        try:
            services = set((yaml.safe_load(compose.read_text(encoding="utf-8")) or {}).get("services", {}))
        except yaml.YAMLError:
            services = set()  # a conflicted compose file is reported as a conflict, not parsed
    versions = root / "migrations" / "versions"
    migrations = {path.name for path in versions.glob("*.py")} if versions.is_dir() else set()
    return _Facts(env_vars=env_vars, services=services, migrations=migrations)


def _classify_changes(root: Path, report: UpgradeReport) -> None:
    for line in git(root, "status", "--porcelain", "--untracked-files=all").splitlines():
        status, name = line[:2], line[3:].strip().strip('"')
        if " -> " in name:
            name = name.split(" -> ", 1)[1]
        if "U" in status or status in {"AA", "DD"}:
            report.conflicted.append(name)
        elif status == "??" or "A" in status:
            report.added.append(name)
        elif "D" in status:
            report.deleted.append(name)
        else:
            report.changed.append(name)
    for name in list(report.changed) + list(report.added):
        path = root / name
        if path.is_file() and CONFLICT_MARKER.search(path.read_text(encoding="utf-8", errors="replace")):
            (report.changed if name in report.changed else report.added).remove(name)
            report.conflicted.append(name)
    report.conflicted.sort()
