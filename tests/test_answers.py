"""Questions, presets and --data parsing."""

from __future__ import annotations

import keyword
import sys
from pathlib import Path

import pytest
import yaml

from generator.answers import build_answers, load_preset, load_questions, parse_data
from generator.contract import feature_change, features_of, template_config
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


@pytest.mark.parametrize("phase", template_config(REPO_ROOT).phases)
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


def test_the_template_declares_its_phases_answers_file_and_features_through_its_includes(tmp_path: Path) -> None:
    (tmp_path / "includes").mkdir()
    (tmp_path / "copier.yml").write_text(
        "_answers_file: .answers/phaseup.yml\n---\n"
        "phase:\n  type: int\n  choices: [1, 2, 5]\n  default: 1\n---\n!include includes/*.yml\n",
        encoding="utf-8",
    )
    (tmp_path / "includes" / "features.yml").write_text(
        "features:\n  type: yaml\n  when: false\n  default: |\n    search: {{ phase >= 5 }}\n", encoding="utf-8"
    )
    config = template_config(tmp_path)
    assert (config.phases, config.answers_file) == ((1, 2, 5), ".answers/phaseup.yml")
    assert set(config.questions) == {"phase"}
    assert (features_of(tmp_path, {"phase": 2}), features_of(tmp_path, {"phase": 5})) == ([], ["search"])


def test_the_summary_contract_splits_required_from_optional_settings() -> None:
    change = feature_change(REPO_ROOT, {"phase": 1, "session_backend": "database"}, {"phase": 2})
    assert {"cache", "jobs", "replica", "cdn", "monitoring", "redis"} <= {feature.name for feature in change.added}
    assert change.required_settings == ["REDIS_URL"]
    assert "REDIS_URL" not in change.optional_settings and "CACHE_TTL_SECONDS" in change.optional_settings
    already_redis = feature_change(REPO_ROOT, {"phase": 1, "session_backend": "redis"}, {"phase": 2})
    assert "redis" not in [feature.name for feature in already_redis.added]
    assert already_redis.required_settings == [] and "redis" not in already_redis.services
