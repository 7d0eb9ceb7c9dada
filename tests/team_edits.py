"""Edits a team makes to a generated project, and the lines a phase upgrade changes: shared by upgrade tests."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from tests.conftest import REPO_ROOT, run

CONFLICT_BLOCK = re.compile(r"^<<<<<<< [^\n]*\n.*?^=======\n(.*?)^>>>>>>> [^\n]*\n", flags=re.MULTILINE | re.DOTALL)


def answers_of(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def commit(project: Path, message: str) -> None:
    run(["git", "add", "--all"], cwd=project)
    run(["git", "commit", "--quiet", "-m", message], cwd=project)


def render(tmp_path: Path, name: str, answers: dict[str, Any]) -> Path:
    destination = tmp_path / "renders" / name
    copier.run_copy(str(REPO_ROOT), destination, data=answers, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
    return destination


def a_line_the_phase_changes(tmp_path: Path, project: Path, to_phase: int) -> tuple[str, str]:
    """Find a text line that the target phase's template changes: editing it must conflict."""
    answers = {key: value for key, value in answers_of(project).items() if not key.startswith("_")}
    before = render(tmp_path, "before", answers)
    after = render(tmp_path, "after", {**answers, "phase": to_phase})
    for path in sorted(before.rglob("*")):
        relative = path.relative_to(before)
        if not path.is_file() or relative.name == ".copier-answers.yml" or not (after / relative).is_file():
            continue
        old_lines = path.read_text(encoding="utf-8").splitlines()
        new_lines = (after / relative).read_text(encoding="utf-8").splitlines()
        for tag, start, _end, _, _ in difflib.SequenceMatcher(a=old_lines, b=new_lines).get_opcodes():
            if tag == "replace" and old_lines[start].strip():
                return str(relative), old_lines[start]
    pytest.fail(f"phase {to_phase} changes no existing line of a phase-{answers['phase']} project")


def make_team_edits(project: Path, conflict_file: str, conflict_line: str) -> dict[str, str]:
    """Edits of every kind a team makes; returns file -> a line that must survive the upgrade."""
    package = project / "src" / answers_of(project)["project_slug"]
    expectations: dict[str, str] = {}

    service = sorted((package / "services").glob("[a-z]*.py"))[0]
    text = service.read_text(encoding="utf-8")
    service.write_text(text + "\n\ndef loyalty_bonus(points: int) -> int:\n    return points * 2\n", encoding="utf-8")
    expectations[str(service.relative_to(project))] = "def loyalty_bonus(points: int) -> int:"

    module = package / "services" / "loyalty.py"
    module.write_text('"""Loyalty points, added by the team."""\n\nRATE = 3\n', encoding="utf-8")
    expectations[str(module.relative_to(project))] = "RATE = 3"

    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            "dependencies = [\n", 'dependencies = [\n    "tenacity>=9",\n', 1
        ),
        encoding="utf-8",
    )
    expectations["pyproject.toml"] = '    "tenacity>=9",'

    env_example = project / ".env.example"
    env_example.write_text(env_example.read_text(encoding="utf-8") + "\nLOYALTY_RATE=3\n", encoding="utf-8")
    expectations[".env.example"] = "LOYALTY_RATE=3"

    (project / ".pre-commit-config.yaml").unlink()

    target = project / conflict_file
    target.write_text(
        target.read_text(encoding="utf-8").replace(conflict_line, conflict_line + " (edited by the team)", 1),
        encoding="utf-8",
    )
    commit(project, "team edits")
    return expectations


def resolve_conflicts_taking_template(project: Path, names: list[str]) -> None:
    """Resolve inline conflicts the simplest way a team might: keep the new template's side."""
    for name in names:
        path = project / name
        path.write_text(
            CONFLICT_BLOCK.sub(lambda match: match.group(1), path.read_text(encoding="utf-8")), encoding="utf-8"
        )
