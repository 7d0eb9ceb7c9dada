"""Render every combination of the choice questions and check that each result is well-formed."""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from generator.answers import load_questions
from tests.conftest import REPO_ROOT, tree_snapshot

QUESTIONS = load_questions(REPO_ROOT)
CHOICE_QUESTIONS = sorted(name for name, spec in QUESTIONS.items() if "choices" in spec)
COMBINATIONS = [
    dict(zip(CHOICE_QUESTIONS, values, strict=True))
    for values in itertools.product(*(QUESTIONS[name]["choices"] for name in CHOICE_QUESTIONS))
]

# `{{` that belongs to the rendered file's own language, not to Jinja: GitHub/GitLab expressions (`${{ x }}`) and
# Go templates in Prometheus rules or Grafana legends (`{{ $labels.route }}`, `{{route}}` in a dashboard).
NATIVE_BRACES = re.compile(r"\$\{\{|\{\{\s*\$|\{\{\s*\.")
# A Jinja statement or comment, or an expression naming a variable: `{{ name }}`, `{{ name | filter }}`. Python's
# f-string escapes (`f"{{job}}="`) and JSON/Go braces followed by anything else are not Jinja.
JINJA_LEFTOVER = re.compile(r"\{%|%\}|\{#|\{\{\s*[A-Za-z_][\w.]*\s*(\||\}\})")
# Templates branch on features (includes/features.yml derives them from the phase), never on the phase number.
PHASE_COMPARISON = re.compile(r"phase *(>=|>|==|<=|<|!=)|phase +(not +)?in ")
TEMPLATE_SOURCES = [REPO_ROOT / "template", REPO_ROOT / "includes" / "features"]


def combination_id(answers: dict[str, Any]) -> str:
    return "-".join(str(answers[name]) for name in CHOICE_QUESTIONS)


def render(copie: Any, answers: dict[str, Any]) -> Path:
    result = copie.copy(extra_answers={"project_name": "Matrix Shop", **answers})
    assert result.exception is None, result.exception
    assert result.project_dir is not None
    return Path(result.project_dir)


def jinja_leftovers(project: Path) -> list[str]:
    found = []
    for path in sorted(project.rglob("*")):
        if not path.is_file() or ".git" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        allowed = NATIVE_BRACES.sub("", text)
        if "grafana" in path.parts and path.suffix == ".json":
            allowed = re.sub(r"\{\{\s*\w+\s*\}\}", "", allowed)
        for line_number, line in enumerate(allowed.splitlines(), start=1):
            if JINJA_LEFTOVER.search(line):
                found.append(f"{path.relative_to(project)}:{line_number}: {line.strip()}")
    return found


def assert_parses(project: Path) -> None:
    for path in sorted(project.rglob("*")):
        if not path.is_file() or ".git" in path.parts:
            continue
        relative = path.relative_to(project)
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            compile(text, str(relative), "exec")
        elif path.suffix in {".yml", ".yaml"}:
            list(yaml.safe_load_all(text))
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)


@pytest.mark.parametrize("answers", COMBINATIONS, ids=combination_id)
def test_every_combination_renders_clean(copie: Any, answers: dict[str, Any]) -> None:
    project = render(copie, answers)

    assert jinja_leftovers(project) == []
    assert_parses(project)
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    for name, value in answers.items():
        assert recorded[name] == value, name
    assert recorded["_src_path"]
    assert recorded["_commit"]
    has_github = (project / ".github" / "workflows" / "ci.yml").is_file()
    has_gitlab = (project / ".gitlab-ci.yml").is_file()
    assert (has_github, has_gitlab) == (answers["ci"] == "github", answers["ci"] == "gitlab")


def test_answers_file_round_trips(copie: Any, tmp_path: Path) -> None:
    """Rendering again from nothing but the recorded answers gives the same project, byte for byte."""
    project = render(copie, {"phase": 1, "ci": "gitlab", "session_backend": "redis"})
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    replay = tmp_path / "replay"
    answers = {key: value for key, value in recorded.items() if not key.startswith("_")}
    copier.run_copy(str(REPO_ROOT), replay, data=answers, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")

    replayed, original = tree_snapshot(replay), tree_snapshot(project)
    # A development checkout with uncommitted edits gets a fresh temporary commit per render; compare without it.
    for snapshot in (replayed, original):
        snapshot[".copier-answers.yml"] = re.sub(rb"_commit: .*\n", b"", snapshot[".copier-answers.yml"])
    assert replayed == original


def test_no_template_file_or_path_compares_the_phase() -> None:
    found = []
    for source in TEMPLATE_SOURCES:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(REPO_ROOT)
            if PHASE_COMPARISON.search(str(relative)):
                found.append(f"{relative}: path")
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                found += [
                    f"{relative}:{number}: {line.strip()}"
                    for number, line in enumerate(text.splitlines(), start=1)
                    if PHASE_COMPARISON.search(line)
                ]
    assert found == [], "branch on features.<name> instead:\n" + "\n".join(found)
