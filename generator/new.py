"""`phaseup new`: render a fresh project from the template at a growth phase."""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
import yaml

from generator.answers import build_answers, load_questions
from generator.copier_run import run_copier
from generator.errors import PhaseupError, describe_os_error
from generator.git import git as run_git
from generator.project import answers_file_name
from generator.template_source import resolve_template, template_root


@dataclass(frozen=True)
class NewProject:
    path: Path
    answers: dict[str, Any]
    committed: bool


def create_project(
    destination: Path,
    *,
    phase: int | None = None,
    data: dict[str, str] | None = None,
    defaults: bool = False,
    git: bool = True,
) -> NewProject:
    """Render the template into `destination`; on any failure nothing is left behind.

    The project is rendered into a staging directory and moved into place only once complete, so a bad answer, an
    interrupted prompt or a failing render never leaves a half-written project.
    """
    target = destination.expanduser().resolve()
    _check_destination(target)
    root = template_root()
    # With no terminal to ask on (CI, scripts, pipes), every unanswered question takes its default.
    defaults = defaults or not sys.stdin.isatty()
    answers = build_answers(root, phase, dict(data or {}), ask_phase=not defaults)
    source = resolve_template()
    staging_parent = Path(tempfile.mkdtemp(prefix="phaseup-new-"))
    staging = staging_parent / target.name
    try:
        run_copier(
            lambda: copier.run_copy(
                source.url,
                staging,
                data=answers,
                vcs_ref=source.ref,
                defaults=defaults,
                user_defaults=_user_defaults(root, target),
                unsafe=True,
                quiet=True,
            ),
            source.path,
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            target.rmdir()  # empty, checked above
        shutil.move(staging, target)
    finally:
        shutil.rmtree(staging_parent, ignore_errors=True)
    recorded = yaml.safe_load((target / answers_file_name()).read_text(encoding="utf-8"))
    committed = git and _initial_commit(target)
    return NewProject(path=target, answers=recorded, committed=committed)


def _check_destination(target: Path) -> None:
    """Refuse a destination phaseup cannot create, before rendering anything (root included: a real probe)."""
    if target.exists() and not target.is_dir():
        raise PhaseupError(f"destination {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        raise PhaseupError(f"destination {target} exists and is not empty")
    existing = next(path for path in (target, *target.parents) if path.exists())
    if not existing.is_dir():
        raise PhaseupError(f"cannot create {target}: {existing} is a file, not a directory")
    try:
        tempfile.TemporaryDirectory(dir=existing, prefix=".phaseup-probe-").cleanup()
    except OSError as error:
        raise PhaseupError(f"cannot create {target}: {describe_os_error(error)}") from error


def _user_defaults(root: Path, target: Path) -> dict[str, Any]:
    """Defaults that depend on where and how phaseup runs: the folder name and the running Python."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    defaults: dict[str, Any] = {"project_name": target.name}
    if running in load_questions(root)["python_version"].get("choices", []):
        defaults["python_version"] = running
    return defaults


def _initial_commit(project: Path) -> bool:
    """Put the fresh project under git: an upgrade later merges through git and needs a clean base.

    Returns False (and leaves the files alone) when git cannot commit, e.g. with no identity configured.
    """
    if (project / ".git").exists():
        return False
    try:
        run_git(project, "init", "--quiet")
        run_git(project, "add", "--all")
        run_git(project, "commit", "--quiet", "-m", "Generate project with phaseup")
    except PhaseupError:
        return False
    return True
