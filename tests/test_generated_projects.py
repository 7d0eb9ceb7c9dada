"""End to end: generate projects, install each in a fresh virtualenv once, and run the project's own checks.

These run against this machine's real PostgreSQL and Redis (and a moto S3 server the generated suite starts itself).
Each combination is an xdist group, so its virtualenv is built once, by one worker, and reused by its tests.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from generator.new import create_project
from tests.conftest import run

UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")

# Both session backends and every CI choice, each in at least one fully installed and tested project.
COMBINATIONS: dict[str, dict[str, str]] = {
    "database-github": {"session_backend": "database", "ci": "github"},
    "redis-gitlab": {"session_backend": "redis", "ci": "gitlab"},
    "database-none": {"session_backend": "database", "ci": "none"},
}


def combination_params() -> list[Any]:
    return [pytest.param(name, marks=pytest.mark.xdist_group(name), id=name) for name in COMBINATIONS]


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
    """Generate the combination's project and `make install` it, once per test run."""
    name: str = request.param
    if name not in _installed:
        project = tmp_path_factory.mktemp(name) / "shop"
        create_project(project, phase=1, data={"project_name": "E2E Shop", **COMBINATIONS[name]}, defaults=True)
        run(["make", "install"], cwd=project, env=project_env())
        _installed[name] = project
    return _installed[name]


@pytest.mark.e2e
@pytest.mark.parametrize("installed_project", combination_params(), indirect=True)
def test_generated_project_lint_and_type_check(installed_project: Path) -> None:
    run(["make", "lint"], cwd=installed_project, env=project_env())


@pytest.mark.e2e
@pytest.mark.parametrize("installed_project", combination_params(), indirect=True)
def test_generated_project_test_suite(installed_project: Path) -> None:
    result = run(["make", "test"], cwd=installed_project, env=project_env())
    assert " passed" in result.stdout
    assert " skipped" not in result.stdout
