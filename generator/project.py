"""An existing generated project: where its root is, its recorded answers, and the state of its git work tree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from generator.answers import parse_phase
from generator.contract import template_config
from generator.errors import PhaseupError
from generator.git import git
from generator.template_source import template_root


def answers_file_name() -> str:
    """The answers file name copier.yml declares (`_answers_file`)."""
    return template_config(template_root()).answers_file


@dataclass(frozen=True)
class Project:
    root: Path
    answers: dict[str, Any]

    @property
    def phase(self) -> int:
        return parse_phase(self.answers.get("phase"))

    @property
    def template_ref(self) -> str:
        return str(self.answers.get("_commit", ""))

    @property
    def template_version(self) -> Version | None:
        """The phaseup release the project was last rendered from; None for an untagged development checkout."""
        try:
            return Version(self.template_ref.removeprefix("v"))
        except InvalidVersion:
            return None


def find_root(path: Path) -> Path:
    """The project root for `path`, found as git finds a work tree's top: run from `src/<pkg>/` it is still the
    project. Outside any git work tree (a project generated with --no-git) it is `path` itself."""
    start = path.expanduser().resolve()
    if not start.is_dir():
        raise PhaseupError(f"{start} is not a directory")
    top = git(start, "rev-parse", "--show-toplevel", check=False).strip()
    if top and (Path(top) / answers_file_name()).is_file():
        return Path(top).resolve()
    return start


def open_project(path: Path) -> Project:
    """Read a phaseup project, refusing anything that is not one."""
    root = find_root(path)
    answers_path = root / answers_file_name()
    if not answers_path.is_file():
        raise PhaseupError(f"{root} is not a phaseup project: it has no {answers_path.name}")
    try:
        answers = yaml.safe_load(answers_path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as error:
        where = f"line {error.problem_mark.line + 1}: " if error.problem_mark else ""
        raise PhaseupError(f"cannot read {answers_path}: not valid YAML ({where}{error.problem})") from error
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PhaseupError(f"cannot read {answers_path}: {error}") from error
    if not isinstance(answers, dict) or "_commit" not in answers or "phase" not in answers:
        raise PhaseupError(f"{answers_path} does not record a phaseup template version (_commit) and phase")
    try:
        parse_phase(answers["phase"])
    except PhaseupError as error:
        raise PhaseupError(f"{answers_path}: {error}") from error
    return Project(root=root, answers=answers)


def require_clean_git_root(root: Path) -> None:
    """Upgrades merge through git: the project must be a git work tree's top with nothing uncommitted."""
    top = git(root, "rev-parse", "--show-toplevel", check=False).strip()
    if not top:
        raise PhaseupError(f"{root} is not a git repository: run `git init` and commit the project first")
    if Path(top).resolve() != root:
        raise PhaseupError(f"{root} is inside the git repository {top} but not at its top")
    if not git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).strip():
        raise PhaseupError(f"{root} has no commit yet: commit the project first")
    # --no-optional-locks: checking must not even refresh the index's cached file times.
    if git(root, "--no-optional-locks", "status", "--porcelain").strip():
        raise PhaseupError(f"{root} has uncommitted changes: commit or stash them first (git status)")
