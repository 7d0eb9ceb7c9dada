"""Practice 5, reversible migrations: stairway, drift and no-op downgrade checks.

Each test gets its own empty database. The pytest-alembic tests imported here check a single
head, upgrade from empty, models matching the migrations, every downgrade running, and each
downgrade undoing its upgrade.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from pytest_alembic import create_alembic_fixture
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from pytest_alembic.tests.experimental import test_downgrade_leaves_no_trace
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from tests.conftest import PROJECT_ROOT, throwaway_database
from tests.conftest import alembic_config as project_alembic_config

__all__ = [
    "test_downgrade_leaves_no_trace",
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]

VERSIONS = PROJECT_ROOT / "migrations" / "versions"


@pytest.fixture
def alembic_engine() -> Iterator[Engine]:
    with throwaway_database("migrations") as url:
        engine = create_engine(url, poolclass=NullPool)
        yield engine
        engine.dispose()


alembic_runner = create_alembic_fixture(project_alembic_config())


def test_stairway(alembic_engine: Engine) -> None:
    """Upgrade, downgrade and upgrade again, one revision at a time."""
    alembic_config = project_alembic_config()
    revisions = list(reversed(list(ScriptDirectory.from_config(alembic_config).walk_revisions())))
    with alembic_engine.begin() as connection:
        alembic_config.attributes["connection"] = connection
        for revision in revisions:
            command.upgrade(alembic_config, revision.revision)
            command.downgrade(alembic_config, revision.down_revision or "base")  # type: ignore[arg-type]
            command.upgrade(alembic_config, revision.revision)


def _is_no_op(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Pass) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


@pytest.mark.parametrize("path", sorted(VERSIONS.glob("*.py")), ids=lambda path: path.name)
def test_every_downgrade_does_something_and_never_raises(path: Path) -> None:
    module = ast.parse(path.read_text())
    downgrade = next(
        node
        for node in module.body
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade"
    )
    assert not all(_is_no_op(statement) for statement in downgrade.body), (
        f"{path.name}: downgrade() is empty; write the steps that undo upgrade()"
    )
    assert not any(isinstance(node, ast.Raise) for node in ast.walk(downgrade)), (
        f"{path.name}: downgrade() raises; every revision must be reversible"
    )
