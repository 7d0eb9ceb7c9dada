"""End to end: generate projects, install each in a fresh virtualenv once, and run the project's own checks.

These run against this machine's real PostgreSQL and Redis (and a moto S3 server the generated suite starts itself).
Each combination is an xdist group, so its virtualenv is built once, by one worker, and reused by its tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import generator.template_source as template_source
from generator.new import create_project
from generator.upgrade import upgrade_project
from tests.conftest import REPO_ROOT, run
from tests.team_edits import (
    a_line_the_phase_changes,
    answers_of,
    commit,
    make_team_edits,
    resolve_conflicts_taking_template,
)

UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


@dataclass(frozen=True)
class Scenario:
    answers: dict[str, str]
    phase: int = 1
    upgrade_to: int | None = None  # generate, make a team's edits, upgrade, resolve the conflict


# Both session backends, every CI choice and both built phases, each in at least one fully installed and tested
# project, plus an edited Phase-1 project upgraded to Phase 2 whose suite must pass once its conflict is resolved.
SCENARIOS: dict[str, Scenario] = {
    "phase1-database-github": Scenario({"session_backend": "database", "ci": "github"}),
    "phase1-redis-gitlab": Scenario({"session_backend": "redis", "ci": "gitlab"}),
    # Phase 2 from scratch, with the longest slug copier.yml allows: every generated line must still pass ruff.
    "phase2-redis-none-long-slug": Scenario(
        {"session_backend": "redis", "ci": "none", "project_slug": "a_forty_character_project_slug_to_lint_x"},
        phase=2,
    ),
    "phase1-edited-upgraded-to-2": Scenario({"session_backend": "database", "ci": "github"}, upgrade_to=2),
}


def scenario_params() -> list[Any]:
    return [pytest.param(name, marks=pytest.mark.xdist_group(name), id=name) for name in SCENARIOS]


def project_env() -> dict[str, str]:
    """The environment a developer of the generated project has: no trace of phaseup's own virtualenv."""
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    assert UV, "uv is a test dependency: pip install -e '.[test]'"
    env["PATH"] = os.pathsep.join([str(Path(UV).parent), *env.get("PATH", "").split(os.pathsep)])
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


_installed: dict[str, Path] = {}


@pytest.fixture
def installed_project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generate the scenario's project and `make install` it, once per test run."""
    name: str = request.param
    if name not in _installed:
        workdir = tmp_path_factory.mktemp(name)
        scenario = SCENARIOS[name]
        project = workdir / "shop"
        with pytest.MonkeyPatch.context() as patch:
            # Render as the installed wheel does, from a tagged repository, so the upgrade can find the old version.
            patch.setattr(template_source, "BUNDLE_DIR", REPO_ROOT)
            patch.setenv("PHASEUP_HOME", str(workdir / "phaseup-home"))
            data = {"project_name": "E2E Shop", **scenario.answers}
            create_project(project, phase=scenario.phase, data=data, defaults=True)
            if scenario.upgrade_to is not None:
                upgrade_edited_project(workdir, project, scenario.upgrade_to)
        run(["make", "install"], cwd=project, env=project_env())
        _installed[name] = project
    return _installed[name]


def upgrade_edited_project(workdir: Path, project: Path, target: int) -> None:
    conflict_file, conflict_line = a_line_the_phase_changes(workdir, project, target)
    kept = make_team_edits(project, conflict_file, conflict_line)
    report = upgrade_project(project, target)
    assert report.conflicted == [conflict_file]
    resolve_conflicts_taking_template(project, report.conflicted)
    assert answers_of(project)["phase"] == target
    for name, line in kept.items():
        assert line in (project / name).read_text(encoding="utf-8").splitlines(), name
    commit(project, f"upgrade to phase {target}")


@pytest.mark.e2e
@pytest.mark.parametrize("installed_project", scenario_params(), indirect=True)
def test_generated_project_lint_and_type_check(installed_project: Path) -> None:
    run(["make", "lint"], cwd=installed_project, env=project_env())


@pytest.mark.e2e
@pytest.mark.parametrize("installed_project", scenario_params(), indirect=True)
def test_generated_project_test_suite(installed_project: Path) -> None:
    result = run(["make", "test"], cwd=installed_project, env=project_env())
    assert " passed" in result.stdout
    assert " skipped" not in result.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("installed_project", [scenario_params()[0]], indirect=True)
def test_generated_index_check_fails_when_an_index_is_dropped(installed_project: Path) -> None:
    """Remove the index behind the default item listing from the model and its migration: the suite must fail."""
    project = installed_project
    slug = answers_of(project)["project_slug"]
    index = "ix_items_owner_id_created_at_id"
    models = project / "src" / slug / "db" / "models.py"
    migration = next((project / "migrations" / "versions").glob("0001_*.py"))
    model_text = models.read_text(encoding="utf-8")
    migration_text = migration.read_text(encoding="utf-8")
    model_line = next(line for line in model_text.splitlines(keepends=True) if index in line)
    create_index = re.search(rf"    op\.create_index\(\n?\s*\"{index}\".*?\)\n", migration_text, flags=re.DOTALL)
    drop_index = next(line for line in migration_text.splitlines(keepends=True) if f'drop_index("{index}"' in line)
    assert create_index is not None
    try:
        models.write_text(model_text.replace(model_line, ""), encoding="utf-8")
        without_index = migration_text.replace(create_index.group(0), "").replace(drop_index, "")
        migration.write_text(without_index, encoding="utf-8")
        result = subprocess.run(
            ["uv", "run", "pytest", "-p", "no:cacheprovider", "tests/test_items.py"],
            cwd=project,
            env=project_env(),
            capture_output=True,
            text=True,
        )
    finally:
        models.write_text(model_text, encoding="utf-8")
        migration.write_text(migration_text, encoding="utf-8")

    assert result.returncode != 0, result.stdout[-3000:]
    assert "Queries that no index serves" in result.stdout + result.stderr
    assert "created_at" in result.stdout + result.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("installed_project", [scenario_params()[2]], indirect=True)
def test_generated_migrations_pass_the_migration_linter(installed_project: Path) -> None:
    """squawk reads each revision's SQL (offline, from .env.example's settings) for locking or breaking operations."""
    result = run(["make", "squawk", "ENV_FILE=.env.example"], cwd=installed_project, env=project_env())
    assert "Found 0 issues" in result.stdout + result.stderr
