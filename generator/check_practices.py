"""The static checks of `phaseup check`: is each practice of the project's phase still in place in its files?

Every check reads files only (Python with `ast`, never regular expressions over code; YAML and TOML with their
parsers), needs no service, and answers with one outcome: pass, warn or fail, a one-line reason, and the
`file:line` of the first offending place. The features' checks are keyed on the features a project has, each
feature's from its declared contract (features.yml) plus an extra check of its own where it needs one.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.contract import Feature
from generator.errors import PhaseupError
from generator.migration_fork import VERSIONS_DIR, find_heads, read_revisions


@dataclass(frozen=True)
class Outcome:
    status: str  # pass, warn or fail (info for what is reported but never judged)
    message: str
    location: str | None = None


@dataclass
class ProjectFiles:
    """The files of a generated project, with the answers and the features its checks are keyed on."""

    root: Path
    slug: str
    features: frozenset[str]
    contract: dict[str, Feature]
    answers: dict[str, Any]
    _trees: dict[Path, ast.Module] = field(default_factory=dict)

    @property
    def package(self) -> Path:
        return self.root / "src" / self.slug

    def where(self, path: Path, line: int | None = None) -> str:
        relative = path.relative_to(self.root).as_posix()
        return f"{relative}:{line}" if line else relative

    def python_files(self, directory: Path) -> list[Path]:
        if not directory.is_dir():
            raise Unreadable(f"{self.where(directory)} is gone: there is nothing to check", None)
        return sorted(path for path in directory.rglob("*.py") if "__pycache__" not in path.parts)

    def tree(self, path: Path) -> ast.Module:
        """The module's syntax tree; a file that does not parse is a failure of the check reading it."""
        if path not in self._trees:
            try:
                self._trees[path] = ast.parse(path.read_bytes(), filename=str(path))
            except SyntaxError as error:
                raise Unreadable(
                    f"{self.where(path)} does not parse: {error.msg}", self.where(path, error.lineno)
                ) from None
            except OSError as error:
                raise Unreadable(f"cannot read {self.where(path)}: {error.strerror}", self.where(path)) from None
        return self._trees[path]


class Unreadable(Exception):
    """A file a check needs cannot be read or parsed: the check fails there."""

    def __init__(self, message: str, location: str | None) -> None:
        super().__init__(message)
        self.location = location


@dataclass(frozen=True)
class Practice:
    id: str
    run: Callable[[ProjectFiles], Outcome]


def _first(offences: list[tuple[str, str]], ok: str, problem: str) -> Outcome:
    """Pass with `ok`, or fail at the first offence (location, what) saying how many more there are."""
    if not offences:
        return Outcome("pass", ok)
    location, what = offences[0]
    more = f" (and {len(offences) - 1} more)" if len(offences) > 1 else ""
    return Outcome("fail", f"{problem}: {what}{more}", location)


def _dotted(node: ast.expr) -> str:
    """`os.environ.get` for an attribute chain of names, "" for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _imported_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> what it stands for: `import os as o` gives o -> os, `from os import getenv` getenv -> os.getenv."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _resolved(node: ast.expr, names: dict[str, str]) -> str:
    """The dotted name `node` refers to, through the module's imports (`environ.get` -> `os.environ.get`)."""
    dotted = _dotted(node)
    head, _, rest = dotted.partition(".")
    if head in names:
        return f"{names[head]}.{rest}" if rest else names[head]
    return dotted


# --- configuration only from the settings module -------------------------------------------------------------------

_ENV_READERS = {"os.getenv", "os.getenvb", "os.environ.get", "os.environ.setdefault", "os.environ.pop", "os.putenv"}
# Copying the whole environment for a child process (ops/backup.py hands pg_dump its password that way) reads no
# setting of its own: `dict(os.environ)`, `os.environ.copy()` and `{**os.environ}` are allowed.
_ENV_COPIES = {"dict", "os.environ.copy"}


def settings_read_only_in_settings_module(project: ProjectFiles) -> Outcome:
    offences: list[tuple[str, str]] = []
    settings = project.package / "settings.py"
    for path in project.python_files(project.package):
        if path == settings:
            continue
        tree = project.tree(path)
        names = _imported_names(tree)
        allowed: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _resolved(node.func, names) in _ENV_COPIES:
                allowed.update(id(argument) for argument in node.args)
            if isinstance(node, ast.Dict):
                allowed.update(id(value) for key, value in zip(node.keys, node.values, strict=True) if key is None)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _resolved(node.func, names) in _ENV_READERS:
                offences.append((project.where(path, node.lineno), f"{_dotted(node.func)}()"))
            elif (
                isinstance(node, ast.Name | ast.Attribute)
                and _resolved(node, names) == "os.environ"
                and id(node) not in allowed
                and not _is_callee_of_allowed(node, tree, names)
            ):
                offences.append((project.where(path, node.lineno), _dotted(node)))
    offences = _dedupe(offences)
    return _first(
        offences,
        "settings are read only in settings.py, through the Settings class",
        "environment read outside settings.py (add a field to Settings instead)",
    )


def _is_callee_of_allowed(node: ast.expr, tree: ast.Module, names: dict[str, str]) -> bool:
    """`os.environ` as the object of an allowed or already reported call (`os.environ.copy()`, `.get()`)."""
    for parent in ast.walk(tree):
        if isinstance(parent, ast.Attribute) and parent.value is node:
            return _resolved(parent, names) in _ENV_READERS | _ENV_COPIES
    return False


def _dedupe(offences: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(set(offences), key=lambda offence: (offence[0].split(":")[0], int(offence[0].split(":")[1])))


# --- nothing written to local disk ---------------------------------------------------------------------------------

_WRITE_MODE = re.compile(r"[wax+]")
_DISK_WRITERS = {
    "tempfile.NamedTemporaryFile",
    "tempfile.TemporaryFile",
    "tempfile.SpooledTemporaryFile",
    "tempfile.TemporaryDirectory",
    "tempfile.mkstemp",
    "tempfile.mkdtemp",
    "os.mkdir",
    "os.makedirs",
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
}
_PATH_WRITERS = {"write_text", "write_bytes", "mkdir", "touch"}


def no_local_disk_writes(project: ProjectFiles) -> Outcome:
    offences: list[tuple[str, str]] = []
    for path in project.python_files(project.package):
        tree = project.tree(path)
        names = _imported_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            what = _disk_write(node, names)
            if what:
                offences.append((project.where(path, node.lineno), what))
    return _first(
        _dedupe(offences),
        "the application package writes nothing to local disk (files go to S3)",
        "the application package writes to local disk (keep processes stateless: use S3 or the database)",
    )


def _disk_write(call: ast.Call, names: dict[str, str]) -> str:
    callee = _resolved(call.func, names)
    if callee in _DISK_WRITERS:
        return f"{callee}()"
    if callee in {"open", "io.open", "os.fdopen"} or (
        isinstance(call.func, ast.Attribute) and call.func.attr == "open"
    ):
        mode = _mode_argument(call, position=1 if callee in {"open", "io.open", "os.fdopen"} else 0)
        if mode is not None and _WRITE_MODE.search(mode):
            return f"{_dotted(call.func) or 'open'}(..., {mode!r})"
    attribute = call.func if isinstance(call.func, ast.Attribute) else None
    if (
        attribute
        and attribute.attr in _PATH_WRITERS
        and (attribute.attr.startswith("write_") or _looks_like_path(attribute.value))
    ):
        return f"{_dotted(attribute) or attribute.attr}()"
    return ""


def _mode_argument(call: ast.Call, *, position: int) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "mode" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
            return keyword.value.value
    if len(call.args) > position:
        argument = call.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return argument.value
    return None


def _looks_like_path(node: ast.expr) -> bool:
    """`Path(...)`, `x / "y"` or a name with path in it: `.mkdir()` and `.touch()` on anything else are left alone."""
    if isinstance(node, ast.Call) and _dotted(node.func).split(".")[-1] in {"Path", "PurePath"}:
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return True
    return "path" in _dotted(node).lower() or "dir" in _dotted(node).lower()


# --- migrations ----------------------------------------------------------------------------------------------------


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def _does_nothing(function: ast.FunctionDef) -> bool:
    """Only a docstring, `pass` or `...`."""
    for statement in function.body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        return False
    return True


def migrations_reversible(project: ProjectFiles) -> Outcome:
    versions = project.root / VERSIONS_DIR
    offences: list[tuple[str, str]] = []
    for path in sorted(versions.glob("*.py")):
        tree = project.tree(path)
        upgrade, downgrade = _function(tree, "upgrade"), _function(tree, "downgrade")
        if downgrade is None:
            offences.append((project.where(path), "no downgrade() function"))
        elif _does_nothing(downgrade) and not (upgrade is not None and _does_nothing(upgrade)):
            offences.append((project.where(path, downgrade.lineno), "downgrade() is empty but upgrade() is not"))
    return _first(
        offences,
        "every Alembic revision that changes the schema can be downgraded",
        "a migration cannot be reverted",
    )


def migrations_one_head(project: ProjectFiles) -> Outcome:
    versions = project.root / VERSIONS_DIR
    if not versions.is_dir():
        return Outcome("fail", f"no {VERSIONS_DIR.as_posix()} directory", project.where(project.root / "migrations"))
    try:
        revisions = read_revisions(versions)
    except PhaseupError as error:
        return Outcome("fail", str(error), VERSIONS_DIR.as_posix())
    heads = find_heads(revisions)
    if len(heads) == 1:
        return Outcome("pass", f"the migration graph has one head ({heads[0]})")
    if not heads:
        return Outcome("fail", "the migration graph has no head (no revision, or a cycle)", VERSIONS_DIR.as_posix())
    files = {revision.revision: revision.file for revision in revisions}
    location = project.where(versions / files[heads[1]])
    return Outcome(
        "fail",
        f"{len(heads)} migration heads ({', '.join(heads)}): join them with `alembic merge heads`",
        location,
    )


def migration_sql_lint(project: ProjectFiles) -> Outcome:
    """squawk over each revision's SQL, rendered by the project's own Alembic in offline mode (as `make squawk`)."""
    bin_dir = project.root / ".venv" / "bin"
    squawk = shutil.which("squawk", path=str(bin_dir)) or shutil.which("squawk")
    python = shutil.which("python", path=str(bin_dir))
    if squawk is None or python is None or shutil.which("alembic", path=str(bin_dir)) is None:
        missing = "squawk" if squawk is None else "the project's virtualenv with Alembic"
        return Outcome("info", f"skipped: {missing} is not installed here (run `uv sync` in the project first)")
    try:
        revisions = read_revisions(project.root / VERSIONS_DIR)
    except PhaseupError as error:
        return Outcome("fail", str(error), VERSIONS_DIR.as_posix())
    files = {revision.revision: revision.file for revision in revisions}
    steps = [  # a merge revision has no DDL
        (revision.parents[0] if revision.parents else "base", revision.revision)
        for revision in revisions
        if len(revision.parents) <= 1
    ]
    with tempfile.TemporaryDirectory(prefix="phaseup-squawk-") as scratch:
        rendered = _run([python, "-c", _RENDER_SQL, scratch, json.dumps(steps)], project.root, timeout=300)
        if rendered.returncode != 0:
            detail = (rendered.stderr.strip().splitlines() or ["no output"])[-1]
            return Outcome("fail", f"alembic cannot render the migrations as SQL: {detail}", VERSIONS_DIR.as_posix())
        config = ["--config", str(project.root / ".squawk.toml")] if (project.root / ".squawk.toml").is_file() else []
        linted = _run([squawk, *config, "--reporter", "json", "*.sql"], Path(scratch), timeout=120)
    try:
        problems = json.loads(linted.stdout or "[]")
    except json.JSONDecodeError:
        return Outcome("fail", f"squawk failed: {(linted.stderr or linted.stdout).strip()[:200]}")
    if not problems:
        return Outcome("pass", f"squawk finds nothing to flag in the SQL of {len(files)} revision(s)")
    first = problems[0]
    revision = Path(first["file"]).stem
    location = project.where(project.root / VERSIONS_DIR / files.get(revision, f"{revision}.py"))
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return Outcome("fail", f"squawk {first['rule_name']}: {first['message']}{more}", location)


# Run by the project's own Python: one process renders every revision's SQL (`alembic upgrade down:rev --sql`, as
# `make squawk` does one command per revision), each to its own file, since squawk judges a file as one migration.
# Alembic's bookkeeping table is cut out: it is not the project's schema.
_RENDER_SQL = """
import io, json, pathlib, re, sys
from alembic import command
from alembic.config import Config
for down, revision in json.loads(sys.argv[2]):
    sql = io.StringIO()
    command.upgrade(Config("alembic.ini", output_buffer=sql), f"{down}:{revision}", sql=True)
    text = re.sub(r"^CREATE TABLE alembic_version \\(.*?^\\);\\n", "", sql.getvalue(), flags=re.M | re.S)
    pathlib.Path(sys.argv[1], revision + ".sql").write_text(text, encoding="utf-8")
"""


def _run(command: list[str], cwd: Path, *, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


# --- import layers, index hygiene, sessions, CI, backups -----------------------------------------------------------


def _toml(project: ProjectFiles) -> tuple[dict[str, Any], list[str]]:
    path = project.root / "pyproject.toml"
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text), text.splitlines()
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise Unreadable(f"cannot read pyproject.toml: {error}", "pyproject.toml") from None


def _line_of(lines: list[str], needle: str) -> int | None:
    return next((number for number, line in enumerate(lines, 1) if line.strip().startswith(needle)), None)


def import_layers(project: ProjectFiles) -> Outcome:
    config, lines = _toml(project)
    linter = config.get("tool", {}).get("importlinter")
    if not isinstance(linter, dict):
        return Outcome(
            "fail",
            "no [tool.importlinter] section: the api -> services -> db layers are not enforced",
            "pyproject.toml",
        )
    where = f"pyproject.toml:{_line_of(lines, '[tool.importlinter]') or 1}"
    roots = linter.get("root_packages") or [linter.get("root_package")]
    if project.slug not in roots:
        return Outcome("fail", f"import-linter's root package is not {project.slug}", where)
    expected = [f"{project.slug}.{layer}" for layer in ("api", "services", "db")]
    for contract in linter.get("contracts", []):
        layers = [str(layer).strip() for layer in contract.get("layers", [])]
        if contract.get("type") == "layers" and [layer for layer in layers if layer in expected] == expected:
            return Outcome("pass", f"import-linter enforces {' -> '.join(expected)}")
    line = _line_of(lines, "[[tool.importlinter.contracts]]") or _line_of(lines, "[tool.importlinter]") or 1
    return Outcome(
        "fail",
        f"no import-linter `layers` contract lists {', '.join(expected)} in that order",
        f"pyproject.toml:{line}",
    )


def index_check_active(project: ProjectFiles) -> Outcome:
    conftest = project.root / "tests" / "conftest.py"
    checker = project.root / "tests" / "index_check.py"
    if not checker.is_file():
        return Outcome("fail", "tests/index_check.py is gone: no query plan is checked for missing indexes", "tests")
    if not conftest.is_file():
        return Outcome("fail", "no tests/conftest.py enables the index check", "tests")
    for node in ast.walk(project.tree(conftest)):
        if isinstance(node, ast.FunctionDef) and _autouse_fixture(node):
            called = {_dotted(call.func).split(".")[-1] for call in ast.walk(node) if isinstance(call, ast.Call)}
            if {"record_statements", "report_unindexed"} <= called:
                return Outcome("pass", f"the autouse fixture {node.name} EXPLAINs every query the suite runs")
    fixture = next(
        (
            node
            for node in ast.walk(project.tree(conftest))
            if isinstance(node, ast.FunctionDef) and "report_unindexed" in ast.unparse(node)
        ),
        None,
    )
    return Outcome(
        "fail",
        "no autouse fixture in tests/conftest.py records the suite's queries and reports unindexed ones "
        "(record_statements + report_unindexed)",
        project.where(conftest, fixture.lineno if fixture else None),
    )


def _autouse_fixture(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and _dotted(decorator.func).endswith("fixture"):
            for keyword in decorator.keywords:
                if keyword.arg == "autouse" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True:
                    return True
    return False


_IN_MEMORY_CONTAINERS = {
    "dict",
    "set",
    "list",
    "defaultdict",
    "OrderedDict",
    "WeakValueDictionary",
    "TTLCache",
    "LRUCache",
    "deque",
    "Counter",
}
_MEMO_DECORATORS = {"lru_cache", "cache", "cached"}


def sessions_not_in_memory(project: ProjectFiles) -> Outcome:
    backend = str(project.answers.get("session_backend", ""))
    store = project.package / "adapters" / "user_sessions"
    module = store / f"{backend}.py"
    if backend not in {"database", "redis"} or not module.is_file():
        return Outcome(
            "fail",
            f"no user-session store in PostgreSQL or Redis ({project.where(module)} is missing)",
            project.where(store) if store.is_dir() else None,
        )
    offences: list[tuple[str, str]] = []
    for path in project.python_files(store):
        for node, what in _process_memory_state(project.tree(path)):
            offences.append((project.where(path, node.lineno), what))
    return _first(
        _dedupe(offences),
        f"user sessions live in {'PostgreSQL' if backend == 'database' else 'Redis'}, none in process memory",
        "user-session state kept in process memory (another process or a restart loses it)",
    )


def _process_memory_state(tree: ast.Module) -> Iterator[tuple[ast.stmt, str]]:
    """Containers kept at module level, on a class or on `self`, and memoised functions, in the session store."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if _dotted(target).split(".")[-1] in _MEMO_DECORATORS:
                    yield node, f"@{_dotted(target)} on {node.name}()"
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None and _container(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if _stored_beyond_a_call(target, tree, node):
                    yield node, f"{ast.unparse(target)} = {ast.unparse(node.value)}"


def _container(value: ast.expr) -> bool:
    if isinstance(value, ast.Dict | ast.Set | ast.List | ast.DictComp | ast.SetComp | ast.ListComp):
        return True
    return isinstance(value, ast.Call) and _dotted(value.func).split(".")[-1] in _IN_MEMORY_CONTAINERS


def _stored_beyond_a_call(target: ast.expr, tree: ast.Module, assignment: ast.AST) -> bool:
    """`self.x = {}`, or a module- or class-level name; a local variable of a function lives one call only."""
    if isinstance(target, ast.Attribute) and _dotted(target.value) in {"self", "cls"}:
        return True
    if not isinstance(target, ast.Name):
        return False
    if assignment in tree.body:
        return True
    return any(isinstance(node, ast.ClassDef) and assignment in node.body for node in ast.walk(tree))


_TEST_COMMAND = re.compile(r"\b(make\s+test|pytest)\b")


def ci_runs_tests(project: ProjectFiles) -> Outcome:
    files = (
        sorted((project.root / ".github" / "workflows").glob("*.y*ml"))
        if (project.root / ".github" / "workflows").is_dir()
        else []
    )
    if (project.root / ".gitlab-ci.yml").is_file():
        files.append(project.root / ".gitlab-ci.yml")
    if not files:
        if project.answers.get("ci") == "none":
            return Outcome("warn", "no CI: the project was generated with ci=none, so nothing runs the tests on push")
        return Outcome("fail", "no CI configuration (.github/workflows/*.yml or .gitlab-ci.yml)")
    for path in files:
        for commands, line in _ci_commands(project, path):
            if _TEST_COMMAND.search(commands):
                return Outcome("pass", f"{project.where(path)} runs the tests", project.where(path, line))
    return Outcome("fail", "CI never runs the tests (no `make test` or `pytest` step)", project.where(files[0], 1))


def _ci_commands(project: ProjectFiles, path: Path) -> Iterator[tuple[str, int]]:
    """The shell commands of a GitHub workflow's `run:` steps or a GitLab job's scripts, with their line."""
    text = path.read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise Unreadable(f"{project.where(path)} is not valid YAML", project.where(path)) from None
    if not isinstance(document, dict):
        return
    lines = text.splitlines()
    github_jobs = document.get("jobs")
    jobs = github_jobs.values() if isinstance(github_jobs, dict) else document.values()
    for job in jobs:
        if not isinstance(job, dict):
            continue
        commands = [step["run"] for step in job.get("steps") or [] if isinstance(step, dict) and "run" in step]
        for key in ("before_script", "script"):
            script = job.get(key) or []
            commands += [script] if isinstance(script, str) else script
        for command in commands:
            yield str(command), _command_line(lines, str(command))


def _command_line(lines: list[str], command: str) -> int:
    first = command.strip().splitlines()[0] if command.strip() else ""
    return next((number for number, line in enumerate(lines, 1) if first and first in line), 1)


def backups_restore_test(project: ProjectFiles) -> Outcome:
    tests = project.root / "tests" / "test_backup.py"
    if not tests.is_file():
        return Outcome("fail", "tests/test_backup.py is gone: no test restores a backup", "tests")
    for node in ast.walk(project.tree(tests)):
        restores = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
            "restore" in node.name
            or any(isinstance(call, ast.Call) and "restore" in ast.unparse(call) for call in ast.walk(node))
        )
        if restores and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
            return Outcome(
                "pass", f"{node.name} restores a backup into a fresh database", project.where(tests, node.lineno)
            )
    return Outcome("fail", "no test in tests/test_backup.py restores a backup", project.where(tests, 1))


PRACTICES: tuple[Practice, ...] = (
    Practice("settings-only-from-environment", settings_read_only_in_settings_module),
    Practice("no-local-disk-writes", no_local_disk_writes),
    Practice("migrations-reversible", migrations_reversible),
    Practice("migrations-one-head", migrations_one_head),
    Practice("migrations-sql-lint", migration_sql_lint),
    Practice("import-layers", import_layers),
    Practice("index-check", index_check_active),
    Practice("sessions-not-in-memory", sessions_not_in_memory),
    Practice("ci-runs-tests", ci_runs_tests),
    Practice("backup-restore-test", backups_restore_test),
)
