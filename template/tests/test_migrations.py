"""Practice 5, reversible migrations: one head, stairway, drift and no-trace downgrade checks.

Each test gets its own empty database. The pytest-alembic tests imported here check an upgrade
from empty, models matching the migrations, and every downgrade running. The history may hold
merge revisions (from `alembic merge heads`, or the one a phaseup upgrade writes when its
migration and one of yours follow the same revision): the stairway and no-trace checks walk
the graph undoing exactly one revision at a time, and a merge revision, which changes no
schema, is the one kind of revision allowed an empty downgrade.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import produce_migrations, render_python_code
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from pytest_alembic import create_alembic_fixture
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import Connection, Engine, MetaData, create_engine
from sqlalchemy.pool import NullPool

from tests.conftest import alembic_config as project_alembic_config
from tests.conftest import throwaway_database

__all__ = [
    "test_model_definitions_match_ddl",
    "test_up_down_consistency",
    "test_upgrade",
]

HISTORY = ScriptDirectory.from_config(project_alembic_config())
FORKED = (
    "the migrations have {count} heads ({heads}): two revisions follow the same one, so "
    "`alembic upgrade head` (make migrate, and this suite's database) cannot run. Join them "
    'with `uv run alembic merge heads -m "join heads"`, then run make lint and make test.'
)


def _heads_or_stop() -> None:
    """Checked while collecting: with several heads every database test would fail at its
    fixture with Alembic's error, so the run stops with the cause and what to do instead."""
    heads = HISTORY.get_heads()
    if len(heads) > 1:
        pytest.fail(FORKED.format(count=len(heads), heads=", ".join(sorted(heads))), pytrace=False)


_heads_or_stop()


@pytest.fixture
def alembic_engine() -> Iterator[Engine]:
    with throwaway_database("migrations") as url:
        engine = create_engine(url, poolclass=NullPool)
        yield engine
        engine.dispose()


alembic_runner = create_alembic_fixture(project_alembic_config())


def _parents(revision: Script) -> tuple[str, ...]:
    down = revision.down_revision
    return (down,) if isinstance(down, str) else tuple(down or ())


def _parents_first() -> list[Script]:
    """Every revision, each one after all of the revisions it follows."""
    return list(reversed(list(HISTORY.walk_revisions())))


def _one_step_below(revision: Script) -> str:
    """The downgrade target that undoes exactly this revision, other branches staying applied.

    `<revision>@-1` steps its own branch down by one; a merge revision is undone by
    downgrading to one of the revisions it joins (a plain parent would take every
    branch above it down too).
    """
    parents = _parents(revision)
    return parents[0] if len(parents) > 1 else f"{revision.revision}@-1"


def _migrate_on(connection: Connection) -> Config:
    config = project_alembic_config()
    config.attributes["connection"] = connection
    return config


def test_stairway(alembic_engine: Engine) -> None:
    """Upgrade, downgrade and upgrade again, one revision at a time."""
    with alembic_engine.begin() as connection:
        config = _migrate_on(connection)
        for revision in _parents_first():
            command.upgrade(config, revision.revision)
            command.downgrade(config, _one_step_below(revision))
            command.upgrade(config, revision.revision)


def _schema_diff(connection: Connection, target: MetaData) -> str:
    """What autogenerate would write to bring the database to `target`."""
    operations = produce_migrations(MigrationContext.configure(connection), target).upgrade_ops
    assert operations is not None
    return render_python_code(operations)


def test_downgrade_leaves_no_trace(alembic_engine: Engine) -> None:
    """Each downgrade returns the schema to exactly where its upgrade started.

    For every revision, in a savepoint that is rolled back: the schema after its upgrade is
    the target; the difference to it before the upgrade must equal the difference to it
    after upgrade and downgrade.
    """
    with alembic_engine.begin() as connection:
        config = _migrate_on(connection)
        for revision in _parents_first():
            with connection.begin_nested() as savepoint:
                command.upgrade(config, revision.revision)
                upgraded = MetaData()
                upgraded.reflect(connection)
                savepoint.rollback()
            with connection.begin_nested() as savepoint:
                before = _schema_diff(connection, upgraded)
                command.upgrade(config, revision.revision)
                command.downgrade(config, _one_step_below(revision))
                after = _schema_diff(connection, upgraded)
                savepoint.rollback()
            assert after == before, (
                f"{revision.revision}: the downgrade does not undo the upgrade; before the "
                f"upgrade the schema needed\n{before}\nafter the downgrade it needs\n{after}"
            )
            command.upgrade(config, revision.revision)


def _is_no_op(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Pass) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


def _function(module: ast.Module, name: str) -> ast.FunctionDef:
    return next(
        node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == name
    )


def _file_name(revision: Script) -> str:
    return Path(revision.path).name


@pytest.mark.parametrize("revision", _parents_first(), ids=_file_name)
def test_every_downgrade_does_something_and_never_raises(revision: Script) -> None:
    name = _file_name(revision)
    module = ast.parse(Path(revision.path).read_text(encoding="utf-8"))
    upgrade, downgrade = _function(module, "upgrade"), _function(module, "downgrade")
    empty = all(_is_no_op(statement) for statement in downgrade.body)
    if len(_parents(revision)) > 1:  # a merge revision joins branches and changes no schema
        assert all(_is_no_op(statement) for statement in upgrade.body) or not empty, (
            f"{name}: this merge revision changes the schema, so its downgrade must undo that"
        )
    else:
        assert not empty, f"{name}: downgrade() is empty; write the steps that undo upgrade()"
    assert not any(isinstance(node, ast.Raise) for node in ast.walk(downgrade)), (
        f"{name}: downgrade() raises; every revision must be reversible"
    )
