"""An existing generated project: its recorded answers and the state of its git work tree."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from generator.answers import parse_phase
from generator.errors import PhaseupError

ANSWERS_FILE = ".copier-answers.yml"


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


def open_project(path: Path) -> Project:
    """Read a phaseup project, refusing anything that is not one."""
    root = path.expanduser().resolve()
    if not root.is_dir():
        raise PhaseupError(f"{root} is not a directory")
    answers_path = root / ANSWERS_FILE
    if not answers_path.is_file():
        raise PhaseupError(f"{root} is not a phaseup project: it has no {ANSWERS_FILE}")
    try:
        answers = yaml.safe_load(answers_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PhaseupError(f"{answers_path} is not valid YAML: {error}") from error
    if not isinstance(answers, dict) or "_commit" not in answers or "phase" not in answers:
        raise PhaseupError(f"{answers_path} does not record a phaseup template version and phase")
    return Project(root=root, answers=answers)


def git(root: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise PhaseupError(f"git {' '.join(args)} failed in {root}: {result.stderr.strip()}")
    return result.stdout


def require_clean_git_root(root: Path) -> None:
    """Upgrades merge through git: the project must be a git work tree's top with nothing uncommitted."""
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True)
    if top.returncode != 0:
        raise PhaseupError(f"{root} is not a git repository: run `git init` and commit the project first")
    if Path(top.stdout.strip()).resolve() != root:
        raise PhaseupError(f"{root} is inside the git repository {top.stdout.strip()} but not at its top")
    if not git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).strip():
        raise PhaseupError(f"{root} has no commit yet: commit the project first")
    if git(root, "status", "--porcelain").strip():
        raise PhaseupError(f"{root} has uncommitted changes: commit or stash them first (git status)")
