"""Shared fixtures: an isolated phaseup home, a fixed git identity, and helpers to render the template."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # pytest-copie renders the template at --template; the repository root is the template.
    if getattr(config.option, "template", None) is None:
        config.option.template = str(REPO_ROOT)


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
