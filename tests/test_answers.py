"""Questions, presets and --data parsing."""

from __future__ import annotations

import keyword
import sys

import pytest
import yaml

from generator.answers import build_answers, load_preset, load_questions, parse_data
from generator.errors import PhaseupError
from tests.conftest import REPO_ROOT


def test_questions_cover_the_documented_set() -> None:
    questions = load_questions(REPO_ROOT)
    assert {
        "project_name",
        "project_slug",
        "description",
        "author_name",
        "author_email",
        "python_version",
        "framework",
        "phase",
        "ci",
        "session_backend",
    } <= set(questions)
    assert "reserved_python_names" not in questions  # computed, never asked


@pytest.mark.parametrize("phase", [1, 2, 3])
def test_every_preset_names_its_phase_and_only_known_questions(phase: int) -> None:
    preset = load_preset(REPO_ROOT, phase)
    assert preset["phase"] == phase
    assert set(preset) <= set(load_questions(REPO_ROOT))


def test_reserved_names_cover_this_python() -> None:
    document = (REPO_ROOT / "includes" / "reserved-names.yml").read_text(encoding="utf-8")
    reserved = set(yaml.safe_load(document)["reserved_python_names"]["default"])
    names = set(sys.stdlib_module_names) | set(keyword.kwlist) | set(keyword.softkwlist)
    # Slugs are lowercase and start with a letter, so only such names can clash.
    assert {name for name in names if name[0].islower()} <= reserved


def test_explicit_data_wins_over_the_preset() -> None:
    answers = build_answers(REPO_ROOT, 2, {"ci": "gitlab", "session_backend": "redis"})
    assert answers["phase"] == 2
    assert answers["ci"] == "gitlab"
    assert answers["session_backend"] == "redis"


def test_data_phase_selects_the_preset() -> None:
    assert build_answers(REPO_ROOT, None, {"phase": "3"})["phase"] == 3


@pytest.mark.parametrize(
    ("phase", "data", "message"),
    [
        (4, {}, "unknown phase 4"),
        (None, {"phase": "x"}, "unknown phase x"),
        (2, {"phase": "3"}, "--phase 2 contradicts --data phase=3"),
        (None, {"colour": "blue"}, "unknown --data key colour"),
    ],
)
def test_bad_answers_are_refused(phase: int | None, data: dict[str, str], message: str) -> None:
    with pytest.raises(PhaseupError, match=message):
        build_answers(REPO_ROOT, phase, data)


def test_data_parsing() -> None:
    assert parse_data(["project_name=Acme Shop", "description=a=b"]) == {
        "project_name": "Acme Shop",
        "description": "a=b",
    }
    for malformed in ["novalue", "=value"]:
        with pytest.raises(PhaseupError, match="malformed --data"):
            parse_data([malformed])
