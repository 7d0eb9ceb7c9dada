"""phaseup's own code meets the bar it sets for generated projects: ruff's lint and format, mypy --strict."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run

TOOLS = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(TOOLS))
    assert found, f"{name} is a test dependency: pip install -e '.[test]'"
    return found


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "generator", "includes", "tests", "benchmarks"],
        ["ruff", "format", "--check", "generator", "includes", "tests", "benchmarks"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_phaseup_code_passes(command: list[str]) -> None:
    run([tool(command[0]), *command[1:]], cwd=REPO_ROOT)
