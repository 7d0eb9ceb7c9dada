"""Join the Alembic heads an upgrade leaves when the team wrote migrations of its own.

A phase that adds a table adds a revision after the last one the template shipped. A team that has since added a
revision after that same parent now has two heads, and `alembic upgrade head` (so `make migrate` and every
database test) refuses to run. phaseup writes the merge revision `alembic merge heads` would write, in the
project's own style, so the upgraded project has one head again without a manual step. The revision files are
read with `ast`: neither alembic nor the project's virtualenv is needed.
"""

from __future__ import annotations

import ast
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from generator.errors import PhaseupError

VERSIONS_DIR = Path("migrations", "versions")
MERGE_FILE_SUFFIX = "_join_migration_heads.py"
GRAPH_NAMES = ("revision", "down_revision")

MERGE_REVISION = '''\
"""Join the migration heads {heads}.

The project's own migrations and the ones a phaseup upgrade added both followed the same
revision, which left Alembic with more than one head; this revision makes them one again.

Revision ID: {revision}
Revises: {heads}
Create Date: {created}
"""

from collections.abc import Sequence

revision: str = "{revision}"
down_revision: str | Sequence[str] | None = (
{parents})
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Empty: the joined revisions hold every schema change themselves."""


def downgrade() -> None:
    """Empty: downgrading past this revision only splits the history into its branches again."""
'''


@dataclass(frozen=True)
class Revision:
    """One revision file's place in the graph."""

    file: str
    revision: str
    parents: tuple[str, ...]


def join_alembic_heads(root: Path) -> str | None:
    """Write a merge revision when the project's migrations have several heads; return its path relative to root.

    Returns None when there is one head (or no migrations), and writes nothing then.
    """
    versions = root / VERSIONS_DIR
    if not versions.is_dir():
        return None
    revisions = read_revisions(versions)
    heads = find_heads(revisions)
    if len(heads) < 2:
        return None
    revision = _fresh_revision_id({known.revision for known in revisions})
    path = versions / f"{revision}{MERGE_FILE_SUFFIX}"
    path.write_text(
        MERGE_REVISION.format(
            heads=", ".join(heads),
            revision=revision,
            created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            parents="".join(f'    "{head}",\n' for head in heads),
        ),
        encoding="utf-8",
    )
    return path.relative_to(root).as_posix()


def read_revisions(versions: Path) -> list[Revision]:
    """Every revision file of the directory, as Alembic loads them (the `*.py` files directly inside it)."""
    revisions: dict[str, Revision] = {}
    for path in sorted(versions.glob("*.py")):
        revision = _read_revision(path)
        if revision.revision in revisions:
            raise PhaseupError(
                f"{path.name} and {revisions[revision.revision].file} both declare revision "
                f"{revision.revision!r}; give one of them a new revision id"
            )
        revisions[revision.revision] = revision
    for revision in revisions.values():
        for parent in revision.parents:
            if parent not in revisions:
                raise PhaseupError(
                    f"{revision.file} follows revision {parent!r}, which no file in {VERSIONS_DIR.as_posix()} declares"
                )
    return list(revisions.values())


def find_heads(revisions: list[Revision]) -> list[str]:
    """The revisions no other revision follows, sorted."""
    followed = {parent for revision in revisions for parent in revision.parents}
    return sorted(revision.revision for revision in revisions if revision.revision not in followed)


def _read_revision(path: Path) -> Revision:
    try:
        module = ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
    except (SyntaxError, UnicodeDecodeError, ValueError) as error:
        raise PhaseupError(f"cannot read the migration {path.name}: {error}") from None
    values: dict[str, ast.expr] = {}
    for statement in module.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in GRAPH_NAMES:
            values[target.id] = value
    if "revision" not in values:
        raise PhaseupError(f"cannot read the migration {path.name}: it declares no `revision`")
    try:
        revision = ast.literal_eval(values["revision"])
        down_revision = ast.literal_eval(values.get("down_revision", ast.Constant(None)))
    except ValueError:
        raise PhaseupError(
            f"cannot read the migration {path.name}: `revision` and `down_revision` must be written as literal values"
        ) from None
    parents = (down_revision,) if isinstance(down_revision, str) else down_revision
    parents = () if parents is None else parents
    if (
        not isinstance(revision, str)
        or not isinstance(parents, tuple | list)
        or not all(isinstance(parent, str) for parent in parents)
    ):
        raise PhaseupError(
            f"cannot read the migration {path.name}: `revision` must be a string and `down_revision` a string, "
            "a tuple of strings or None"
        )
    return Revision(file=path.name, revision=revision, parents=tuple(parents))


def _fresh_revision_id(taken: set[str]) -> str:
    """A random 12-hex-digit id, as `alembic revision` makes, that no file uses yet."""
    while (revision := secrets.token_hex(6)) in taken:
        pass
    return revision
