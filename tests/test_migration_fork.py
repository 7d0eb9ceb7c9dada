"""Joining the Alembic heads a phase upgrade leaves next to a team's own migrations."""

from __future__ import annotations

import ast
import runpy
from pathlib import Path

import pytest

from generator.errors import PhaseupError
from generator.migration_fork import find_heads, join_alembic_heads, read_revisions

VERSIONS = Path("migrations", "versions")


def write_revision(root: Path, name: str, revision: str, down_revision: str, *, annotated: bool = True) -> None:
    """A revision file shaped like the project's own (annotated) or like older Alembic output (plain)."""
    annotation = ": str | Sequence[str] | None" if annotated else ""
    (root / VERSIONS).mkdir(parents=True, exist_ok=True)
    (root / VERSIONS / name).write_text(
        f'"""{name}"""\n\nfrom collections.abc import Sequence\n\n'
        f"revision{': str' if annotated else ''} = {revision!r}\n"
        f"down_revision{annotation} = {down_revision}\n\n\n"
        "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A Phase-1 project's migrations: two revisions in a line."""
    write_revision(tmp_path, "0001_users_items_attachments.py", "0001", "None")
    write_revision(tmp_path, "0002_sessions_and_login_attempts.py", "0002", '"0001"')
    return tmp_path


def files_of(root: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted((root / VERSIONS).glob("*.py"))}


def test_one_head_writes_nothing(project: Path) -> None:
    before = files_of(project)
    assert join_alembic_heads(project) is None
    assert files_of(project) == before


def test_a_project_without_migrations_has_nothing_to_join(tmp_path: Path) -> None:
    assert join_alembic_heads(tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_an_already_joined_diamond_has_one_head(project: Path) -> None:
    write_revision(project, "0003_export_jobs.py", "0003", '"0002"')
    write_revision(project, "5c0ffee00001_orders.py", "5c0ffee00001", '"0002"', annotated=False)
    write_revision(project, "9d1e_merge.py", "9d1e", '["0003", "5c0ffee00001"]')
    assert join_alembic_heads(project) is None


def test_two_heads_get_a_merge_revision_that_follows_both(project: Path) -> None:
    write_revision(project, "0003_export_jobs.py", "0003", '"0002"')
    write_revision(project, "5c0ffee00001_orders.py", "5c0ffee00001", '"0002"', annotated=False)

    written = join_alembic_heads(project)

    assert written is not None
    path = project / written
    assert path.parent == project / VERSIONS
    assert path.name.endswith("_join_migration_heads.py")
    module = runpy.run_path(str(path))  # the file imports and runs as Alembic would load it
    assert module["down_revision"] == ("0003", "5c0ffee00001")
    assert path.name.startswith(f"{module['revision']}_")
    assert module["revision"] not in {"0001", "0002", "0003", "5c0ffee00001"}
    assert module["upgrade"]() is None
    assert module["downgrade"]() is None
    assert find_heads(read_revisions(project / VERSIONS)) == [module["revision"]]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    downgrade = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "downgrade")
    assert "Empty" in (ast.get_docstring(downgrade) or ""), "an empty downgrade says why it is empty"
    assert join_alembic_heads(project) is None, "a second run finds one head and writes nothing"


def test_three_heads_are_joined_by_one_revision(project: Path) -> None:
    write_revision(project, "0003_export_jobs.py", "0003", '"0002"')
    write_revision(project, "aaa1_orders.py", "aaa1", '"0002"')
    write_revision(project, "bbb2_invoices.py", "bbb2", '("0001",)')

    written = join_alembic_heads(project)

    assert written is not None
    assert runpy.run_path(str(project / written))["down_revision"] == ("0003", "aaa1", "bbb2")
    assert len(find_heads(read_revisions(project / VERSIONS))) == 1


def test_two_merge_revisions_in_a_row_stay_distinct(project: Path) -> None:
    """A later phase forks again after the first join: the second join is a new file with a new id."""
    write_revision(project, "0003_export_jobs.py", "0003", '"0002"')
    write_revision(project, "aaa1_orders.py", "aaa1", '"0002"')
    first = join_alembic_heads(project)
    write_revision(project, "0004_reports.py", "0004", '"0003"')

    second = join_alembic_heads(project)

    assert first is not None and second is not None and first != second
    first_revision = runpy.run_path(str(project / first))["revision"]
    assert runpy.run_path(str(project / second))["down_revision"] == tuple(sorted(["0004", first_revision]))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("0003_broken.py", 'revision = "0003"\ndown_revision = ("0002",\n', "0003_broken.py"),
        ("0003_no_id.py", "down_revision = '0002'\n", "0003_no_id.py"),
        ("0003_computed.py", "revision = make_id()\ndown_revision = '0002'\n", "0003_computed.py"),
        ("0003_number.py", "revision = 3\ndown_revision = '0002'\n", "0003_number.py"),
        ("0003_orphan.py", "revision = '0003'\ndown_revision = '0099'\n", "'0099'"),
        ("0003_twin.py", "revision = '0002'\ndown_revision = '0001'\n", "both declare revision '0002'"),
    ],
)
def test_an_unreadable_graph_is_an_error_naming_the_file(project: Path, name: str, text: str, message: str) -> None:
    (project / VERSIONS / name).write_text(text, encoding="utf-8")
    before = files_of(project)
    with pytest.raises(PhaseupError, match=message) as error:
        join_alembic_heads(project)
    assert name in str(error.value)
    assert files_of(project) == before
