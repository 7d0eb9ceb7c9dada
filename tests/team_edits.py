"""Edits a team makes to a generated project, and the lines a phase upgrade changes: shared by upgrade tests.

make_team_edits makes small edits of every kind; make_product_team_edits adds on top a whole feature with its own
migration, as a product team does between generating a project and upgrading it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from generator.migration_fork import VERSIONS_DIR, find_heads, read_revisions
from tests.conftest import REPO_ROOT, run

# --- Where a product team's edits go in the generated layout ---------------------------------------------------------
# Every path, anchor and snippet below depends on where the template puts things (models module, app factory,
# settings module, README, compose file, CI workflow). When the layout changes, adapt this block and nothing else.
# Paths are relative to the project; "{slug}" stands for the package name, "{head}" for the latest migration.

PACKAGE = "src/{slug}"
SERVICES_DIR = f"{PACKAGE}/services"  # make_team_edits extends the first service module and adds one
MODELS_MODULE = f"{PACKAGE}/db/models.py"
ROUTER_LIST = f"{PACKAGE}/api/routes.py"  # where the generated README says a team registers its routers
SETTINGS_MODULE = f"{PACKAGE}/settings.py"
ROUTERS_IMPORT = "from {slug}.api import accounts, attachments, health, items"
LAST_ROUTER_REGISTERED = "    health.router,\n"
SETTING_AFTER = '    backup_s3_prefix: str = "backups/"\n'
RENAMED_TEST = ("tests/test_bad_input.py", "tests/test_malformed_requests.py")
CI_WORKFLOW = ".github/workflows/ci.yml"
CI_EDIT = ("    timeout-minutes: 10\n", "    timeout-minutes: 15\n")  # the first job's time limit
COMPOSE_EDIT = (
    '    command: ["mini", "-dir=/data", "-ip.bind=0.0.0.0"]\n',
    '    command: ["mini", "-dir=/data", "-ip.bind=0.0.0.0"]\n    restart: unless-stopped\n',
)
README_LINE = "Owned by the checkout team: questions in #checkout, incidents to the on-call rota."

ORDER_MODEL = '''

class Order(Base):
    """A customer's order; listed newest first, so one index serves the owner's listing."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_owner_id_created_at_id", "owner_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(Text)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()
'''
ORDER_REVISION = "7a3c9e1f5b2d"
ORDER_MIGRATION_FILE = f"migrations/versions/{ORDER_REVISION}_add_orders.py"
ORDER_MIGRATION = '''"""Add orders.

Revision ID: 7a3c9e1f5b2d
Revises: {head}
Create Date: 2026-02-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a3c9e1f5b2d"
down_revision: str | None = "{head}"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_orders_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index(
        "ix_orders_owner_id_created_at_id",
        "orders",
        ["owner_id", "created_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_owner_id_created_at_id", table_name="orders")
    op.drop_table("orders")
'''
ORDER_FILES = {
    f"{PACKAGE}/db/repositories/orders.py": '''"""Queries on orders, in the order of their owner index."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from {slug}.db.models import Order


async def newest(db: AsyncSession, owner_id: uuid.UUID, limit: int) -> list[Order]:
    statement = (
        select(Order)
        .where(Order.owner_id == owner_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(await db.scalars(statement))
''',
    f"{PACKAGE}/services/orders.py": '''"""Orders: placed by the signed-in user, listed newest first."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from {slug}.db.models import Order
from {slug}.db.repositories import orders


async def place_order(
    db: AsyncSession, owner_id: uuid.UUID, reference: str, total_cents: int
) -> Order:
    order = Order(owner_id=owner_id, reference=reference, total_cents=total_cents)
    db.add(order)
    await db.commit()
    await db.refresh(order)
    return order


async def recent_orders(db: AsyncSession, owner_id: uuid.UUID, limit: int) -> list[Order]:
    return await orders.newest(db, owner_id, limit)
''',
    f"{PACKAGE}/api/orders.py": '''"""The signed-in user's orders."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from {slug}.api.deps import CurrentUserId, ReadSession, State, WriteSession
from {slug}.services import orders

router = APIRouter(prefix="/orders", tags=["orders"])


class OrderCreate(BaseModel):
    reference: Annotated[str, Field(min_length=1, max_length=100)]
    total_cents: Annotated[int, Field(ge=0)]


class OrderResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    reference: str
    total_cents: int
    created_at: datetime


@router.post("", status_code=201)
async def place_order(body: OrderCreate, user_id: CurrentUserId, db: WriteSession) -> OrderResponse:
    order = await orders.place_order(db, user_id, body.reference, body.total_cents)
    return OrderResponse.model_validate(order)


@router.get("")
async def list_orders(user_id: CurrentUserId, db: ReadSession, state: State) -> list[OrderResponse]:
    recent = await orders.recent_orders(db, user_id, state.settings.orders_page_size)
    return [OrderResponse.model_validate(order) for order in recent]
''',
    "tests/test_orders.py": '''"""Orders: placed by the signed-in user, listed newest first, private to their owner."""

from datetime import datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import https_client, sign_up_and_log_in


def test_orders_are_listed_newest_first(user_client: TestClient) -> None:
    for reference in ("first", "second", "third"):
        placed = user_client.post("/orders", json={"reference": reference, "total_cents": 1250})
        assert placed.status_code == 201, placed.text
    listed = user_client.get("/orders").json()
    assert {order["reference"] for order in listed} == {"first", "second", "third"}
    created = [datetime.fromisoformat(order["created_at"]) for order in listed]
    assert created == sorted(created, reverse=True)


def test_orders_are_private_to_their_owner(app: FastAPI, user_client: TestClient) -> None:
    placed = user_client.post("/orders", json={"reference": "mine", "total_cents": 1})
    assert placed.status_code == 201, placed.text
    stranger = https_client(app)
    sign_up_and_log_in(stranger)
    assert stranger.get("/orders").json() == []


def test_an_order_needs_a_reference(user_client: TestClient) -> None:
    assert user_client.post("/orders", json={"reference": "", "total_cents": 1}).status_code == 422
''',
}
ORDER_SETTING = "    orders_page_size: int = Field(default=50, ge=1)\n"
ORDER_ENV_LINES = "\n# Orders returned by GET /orders, newest first\nORDERS_PAGE_SIZE=50\n"

# ----------------------------------------------------------------------------------------------------------------------

# Copier's inline markers: the project's side ("before updating") first, the new template's ("after updating") second.
CONFLICT_BLOCK = re.compile(r"^<<<<<<< [^\n]*\n(.*?)^=======\n(.*?)^>>>>>>> [^\n]*\n", flags=re.MULTILINE | re.DOTALL)
TEAM_EDIT_MARK = " (edited by the team)"


def answers_of(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def commit(project: Path, message: str) -> None:
    run(["git", "add", "--all"], cwd=project)
    run(["git", "commit", "--quiet", "-m", message], cwd=project)


def render(tmp_path: Path, name: str, answers: dict[str, Any]) -> Path:
    destination = tmp_path / "renders" / name
    copier.run_copy(str(REPO_ROOT), destination, data=answers, defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD")
    return destination


def a_line_the_phase_changes(tmp_path: Path, project: Path, to_phase: int) -> tuple[str, str]:
    """Find a text line that the target phase's template changes: editing it must conflict."""
    answers = {key: value for key, value in answers_of(project).items() if not key.startswith("_")}
    before = render(tmp_path, "before", answers)
    after = render(tmp_path, "after", {**answers, "phase": to_phase})
    for path in sorted(before.rglob("*")):
        relative = path.relative_to(before)
        if not path.is_file() or relative.name == ".copier-answers.yml" or not (after / relative).is_file():
            continue
        old_lines = path.read_text(encoding="utf-8").splitlines()
        new_lines = (after / relative).read_text(encoding="utf-8").splitlines()
        for tag, start, _end, _, _ in difflib.SequenceMatcher(a=old_lines, b=new_lines).get_opcodes():
            if tag == "replace" and old_lines[start].strip():
                return str(relative), old_lines[start]
    pytest.fail(f"phase {to_phase} changes no existing line of a phase-{answers['phase']} project")


def make_team_edits(project: Path, conflict_file: str, conflict_line: str) -> dict[str, str]:
    """Edits of every kind a team makes; returns file -> a line that must survive the upgrade."""
    services = project / SERVICES_DIR.format(slug=answers_of(project)["project_slug"])
    expectations: dict[str, str] = {}

    service = sorted(services.glob("[a-z]*.py"))[0]
    text = service.read_text(encoding="utf-8")
    service.write_text(text + "\n\ndef loyalty_bonus(points: int) -> int:\n    return points * 2\n", encoding="utf-8")
    expectations[str(service.relative_to(project))] = "def loyalty_bonus(points: int) -> int:"

    module = services / "loyalty.py"
    module.write_text('"""Loyalty points, added by the team."""\n\nRATE = 3\n', encoding="utf-8")
    expectations[str(module.relative_to(project))] = "RATE = 3"

    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace(
            "dependencies = [\n", 'dependencies = [\n    "tenacity>=9",\n', 1
        ),
        encoding="utf-8",
    )
    expectations["pyproject.toml"] = '    "tenacity>=9",'

    env_example = project / ".env.example"
    env_example.write_text(env_example.read_text(encoding="utf-8") + "\nLOYALTY_RATE=3\n", encoding="utf-8")
    expectations[".env.example"] = "LOYALTY_RATE=3"

    (project / ".pre-commit-config.yaml").unlink()

    target = project / conflict_file
    target.write_text(
        target.read_text(encoding="utf-8").replace(conflict_line, conflict_line + TEAM_EDIT_MARK, 1),
        encoding="utf-8",
    )
    commit(project, "team edits")
    return expectations


@dataclass(frozen=True)
class TeamEdits:
    """What a product team changed: lines that must survive an upgrade, files that must stay gone."""

    kept_lines: dict[str, str]
    gone: tuple[str, ...]


def make_product_team_edits(project: Path, conflict_file: str, conflict_line: str) -> TeamEdits:
    """The edits of make_team_edits, then a whole feature as a product team adds it, in a second commit.

    An `orders` feature with its model (appended to the models module), migration (after the project's latest
    revision), repository, service, router (registered in the router list) and tests; a setting with its
    .env.example line; README, compose and CI edits; and a renamed test file.
    """
    kept = make_team_edits(project, conflict_file, conflict_line)
    slug = answers_of(project)["project_slug"]
    head = _single_head(project)

    def edit(name: str, old: str, new: str) -> None:
        path = project / name.format(slug=slug)
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{name} no longer holds {old!r}: adapt the layout block of tests/team_edits.py"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    models = project / MODELS_MODULE.format(slug=slug)
    models.write_text(models.read_text(encoding="utf-8") + ORDER_MODEL, encoding="utf-8")
    (project / ORDER_MIGRATION_FILE).write_text(ORDER_MIGRATION.replace("{head}", head), encoding="utf-8")
    for name, text in ORDER_FILES.items():
        (project / name.format(slug=slug)).write_text(text.replace("{slug}", slug), encoding="utf-8")
    imports = ROUTERS_IMPORT.format(slug=slug)
    edit(ROUTER_LIST, imports + "\n", f"{imports}, orders\n")
    edit(ROUTER_LIST, LAST_ROUTER_REGISTERED, LAST_ROUTER_REGISTERED + "    orders.router,\n")
    edit(SETTINGS_MODULE, SETTING_AFTER, SETTING_AFTER + ORDER_SETTING)
    env_example = project / ".env.example"
    env_example.write_text(env_example.read_text(encoding="utf-8") + ORDER_ENV_LINES, encoding="utf-8")
    readme = project / "README.md"
    title, rest = readme.read_text(encoding="utf-8").split("\n", 1)
    readme.write_text(f"{title}\n\n{README_LINE}\n{rest}", encoding="utf-8")
    edit("compose.yaml", *COMPOSE_EDIT)
    edit(CI_WORKFLOW, *CI_EDIT)
    old_test, new_test = RENAMED_TEST
    run(["git", "mv", old_test, new_test], cwd=project)
    commit(project, "orders: model, migration, service, router and tests")

    kept_lines = {
        **kept,
        MODELS_MODULE.format(slug=slug): "class Order(Base):",
        ROUTER_LIST.format(slug=slug): "    orders.router,",
        SETTINGS_MODULE.format(slug=slug): ORDER_SETTING.rstrip("\n"),
        ".env.example": "ORDERS_PAGE_SIZE=50",
        ORDER_MIGRATION_FILE: f'down_revision: str | None = "{head}"',
        "README.md": README_LINE,
        "compose.yaml": COMPOSE_EDIT[1].splitlines()[-1],
        CI_WORKFLOW: CI_EDIT[1].rstrip("\n"),
        new_test: next(iter((project / new_test).read_text(encoding="utf-8").splitlines())),
        **{name.format(slug=slug): text.split("\n", 1)[0] for name, text in ORDER_FILES.items()},
    }
    return TeamEdits(kept_lines=kept_lines, gone=(".pre-commit-config.yaml", old_test))


def _single_head(project: Path) -> str:
    heads = find_heads(read_revisions(project / VERSIONS_DIR))
    assert len(heads) == 1, f"the generated project should have one migration head, not {heads}"
    return heads[0]


def resolve_conflicts(project: Path, names: list[str], env: dict[str, str]) -> None:
    """Resolve inline conflicts as a team would by hand: where the team deliberately edited a line the template
    also changed, take the template's line; elsewhere (two additions at the same place) keep both, the template's
    first. Python files are then tidied with the project's own ruff, as `make format` would."""

    def resolve(match: re.Match[str]) -> str:
        team, template = match.group(1), match.group(2)
        return template if TEAM_EDIT_MARK in team else template + team

    for name in names:
        path = project / name
        path.write_text(CONFLICT_BLOCK.sub(resolve, path.read_text(encoding="utf-8")), encoding="utf-8")
    python_files = [name for name in names if name.endswith(".py")]
    if python_files:
        run(["uv", "run", "ruff", "check", "--fix", "--quiet", *python_files], cwd=project, env=env)
        run(["uv", "run", "ruff", "format", "--quiet", *python_files], cwd=project, env=env)
