"""End to end: generate projects, install each in a fresh virtualenv once, and run the project's own checks.

These run against this machine's real PostgreSQL and Redis (and a moto S3 server the generated suite starts itself).
Each combination is an xdist group, so its virtualenv is built once, by one worker, and reused by its tests.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import generator.template_source as template_source
from generator.contract import feature_change
from generator.new import create_project
from generator.upgrade import upgrade_project
from tests.conftest import REPO_ROOT, run
from tests.team_edits import (
    ORDER_REVISION,
    a_line_the_phase_changes,
    answers_of,
    commit,
    make_product_team_edits,
    resolve_conflicts,
)

UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
RABBITMQ_MANAGEMENT_URL = "http://guest:guest@127.0.0.1:15672"  # .ci/run enables the plugin that serves it


@dataclass(frozen=True)
class Scenario:
    answers: dict[str, str]
    phase: int = 1
    upgrade_to: int | None = None  # generate, add a product team's feature, deploy it, upgrade, resolve conflicts
    test_environment: dict[str, str] = field(default_factory=dict)  # for the project's own `make test`


# Both session backends, every CI choice and every phase, each in at least one fully installed and tested project:
# edited projects upgraded from Phase 1 to 2, from 1 to 3 and from 2 to 3, whose suites must pass once their
# conflicts are resolved (see tests/team_edits.py for the team's edits).
SCENARIOS: dict[str, Scenario] = {
    "phase1-database-github": Scenario({"session_backend": "database", "ci": "github"}),
    "phase1-redis-gitlab": Scenario({"session_backend": "redis", "ci": "gitlab"}),
    # Phase 2 from scratch, with the longest slug copier.yml allows: every generated line must still pass ruff.
    "phase2-redis-none-long-slug": Scenario(
        {"session_backend": "redis", "ci": "none", "project_slug": "a_forty_character_project_slug_to_lint_x"},
        phase=2,
    ),
    "phase1-edited-upgraded-to-2": Scenario({"session_backend": "database", "ci": "github"}, upgrade_to=2),
    "phase1-edited-upgraded-to-3": Scenario({"session_backend": "database", "ci": "github"}, upgrade_to=3),
    # Its suite creates its RabbitMQ vhost through the management API, as the generated GitHub CI does; the other
    # phase-3 suite uses the server's rabbitmqctl, as a developer's machine does.
    "phase2-redis-edited-upgraded-to-3": Scenario(
        {"session_backend": "redis", "ci": "github"},
        phase=2,
        upgrade_to=3,
        test_environment={"TEST_RABBITMQ_MANAGEMENT_URL": RABBITMQ_MANAGEMENT_URL},
    ),
}
EDITED = [name for name, scenario in SCENARIOS.items() if scenario.upgrade_to is not None]


def scenario_params(names: list[str] | None = None) -> list[Any]:
    return [pytest.param(name, marks=pytest.mark.xdist_group(name), id=name) for name in names or SCENARIOS]


def project_env() -> dict[str, str]:
    """The environment a developer of the generated project has: no trace of phaseup's own virtualenv."""
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    assert UV, "uv is a test dependency: pip install -e '.[test]'"
    env["PATH"] = os.pathsep.join([str(Path(UV).parent), *env.get("PATH", "").split(os.pathsep)])
    env["UV_PYTHON_DOWNLOADS"] = "never"
    # As in the project's own CI: a system program its tests need (haproxy, pgbouncer) that is missing fails those
    # tests with the command that installs it, instead of skipping them.
    env["CI"] = "true"
    return env


_installed: dict[str, Path] = {}
_deployed: dict[Path, str] = {}  # edited project -> the throwaway database its team migrated before the upgrade


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
    """A team adds a feature with a migration and deploys it; then the phase upgrade lands on top."""
    conflict_file, conflict_line = a_line_the_phase_changes(workdir, project, target)
    edits = make_product_team_edits(project, conflict_file, conflict_line)
    run(["make", "install"], cwd=project, env=project_env())
    commit(project, "lock the dependencies")
    database = f"phaseup_e2e_{secrets.token_hex(6)}"
    psql(f'CREATE DATABASE "{database}"')
    _deployed[project] = database
    run(["make", "migrate", f"ENV_FILE={env_file(project, database)}"], cwd=project, env=project_env())

    answers = answers_of(project)
    phase_migrations = feature_change(REPO_ROOT, answers, {**answers, "phase": target}).migrations
    report = upgrade_project(project, target)
    merge = report.migration_heads_joined_by

    if phase_migrations:
        assert merge is not None, "the team's migration and the phase's both follow the same head"
    else:
        assert merge is None, "a phase that adds no migration leaves the team's revision the only head"
    assert conflict_file in report.conflicted
    assert report.conflicted == [conflict_file], "only the line both the team and the phase changed conflicts"
    resolve_conflicts(project, report.conflicted, env=project_env())
    assert answers_of(project)["phase"] == target
    for name, line in edits.kept_lines.items():
        assert line in (project / name).read_text(encoding="utf-8").splitlines(), name
    for name in edits.gone:
        assert not (project / name).exists(), name
    commit(project, f"upgrade to phase {target}")


def psql(statement: str) -> None:
    """Run a statement on the run's server (tests/conftest.py sets TEST_DATABASE_ADMIN_URL)."""
    admin_url = os.environ["TEST_DATABASE_ADMIN_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    run(["psql", "--no-psqlrc", "-d", admin_url, "-c", statement], cwd=REPO_ROOT)


def env_file(project: Path, database: str) -> Path:
    """The project's .env.example pointed at one database, as a deployment's environment."""
    url = re.sub(r"/[^/]*$", f"/{database}", os.environ["TEST_DATABASE_ADMIN_URL"])
    text = (project / ".env.example").read_text(encoding="utf-8")
    path = project.parent / f"{database}.env"
    path.write_text(re.sub(r"^DATABASE_URL=.*$", f"DATABASE_URL={url}", text, flags=re.MULTILINE), encoding="utf-8")
    return path


@pytest.fixture(scope="module", autouse=True)
def _drop_deployed_databases() -> Iterator[None]:
    yield
    for database in _deployed.values():
        psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _deployed.clear()


@pytest.mark.e2e
@pytest.mark.parametrize("installed_project", scenario_params(), indirect=True)
def test_generated_project_lint_and_type_check(installed_project: Path) -> None:
    run(["make", "lint"], cwd=installed_project, env=project_env())


@pytest.mark.e2e
@pytest.mark.parametrize("installed_project", scenario_params(), indirect=True)
def test_generated_project_test_suite(installed_project: Path, request: pytest.FixtureRequest) -> None:
    scenario = SCENARIOS[request.node.callspec.params["installed_project"]]
    result = run(["make", "test"], cwd=installed_project, env=project_env() | scenario.test_environment)
    assert " passed" in result.stdout
    assert " skipped" not in result.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("installed_project", scenario_params(EDITED), indirect=True)
def test_upgraded_project_migrates_the_database_the_team_deployed(installed_project: Path) -> None:
    """The team's migration already ran in production: after the upgrade, `make migrate` brings that database to
    the single head, through the phase's revision and the merge revision when the phase adds one."""
    project = installed_project
    database = _deployed[project]
    migrate = run(["make", "migrate", f"ENV_FILE={env_file(project, database)}"], cwd=project, env=project_env())
    heads = run(["uv", "run", "alembic", "heads"], cwd=project, env=project_env()).stdout.split()
    current = run(
        ["uv", "run", "--env-file", str(env_file(project, database)), "alembic", "current"],
        cwd=project,
        env=project_env(),
    ).stdout

    assert heads.count("(head)") == 1, heads
    assert f"-> {ORDER_REVISION}, " not in migrate.stderr, "the team's revision had already run there"
    if heads[0] != ORDER_REVISION:
        assert f"-> {heads[0]}, " in migrate.stderr, "the merge revision ran on the deployed database"
    assert current.split()[0] == heads[0]


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
