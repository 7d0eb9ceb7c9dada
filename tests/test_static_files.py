"""Files no engine runs here (compose, CI pipelines, Dockerfile) are validated statically, for every variant."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
PRINT_ENV_NAMES = "import os, sys; print(*(name for name in sys.argv[1:] if name in os.environ))"

VARIANTS = [
    {"ci": ci, "session_backend": backend, "phase": phase}
    for phase in (1, 2, 3)
    for ci, backend in (("github", "database"), ("gitlab", "redis"), ("none", "redis"))
]


def validate(schema: str, path: Path) -> None:
    assert path.is_file(), f"{path.name} was not rendered"
    run([str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)], cwd=path.parent)


@pytest.fixture(params=VARIANTS, ids=lambda variant: "phase{phase}-{ci}-{session_backend}".format(**variant))
def project(copie: Any, request: pytest.FixtureRequest) -> Path:
    result = copie.copy(extra_answers={"project_name": "Static Shop", **request.param})
    assert result.exception is None, result.exception
    return Path(result.project_dir)


def test_compose_file_matches_the_compose_spec(project: Path) -> None:
    validate("vendor.compose-spec", project / "compose.yaml")


def test_ci_pipeline_matches_its_schema(project: Path) -> None:
    workflow = project / ".github" / "workflows" / "ci.yml"
    pipeline = project / ".gitlab-ci.yml"
    if workflow.exists():
        validate("vendor.github-workflows", workflow)
    if pipeline.exists():
        validate("vendor.gitlab-ci", pipeline)
    assert workflow.exists() or pipeline.exists() or "ci: none" in (project / ".copier-answers.yml").read_text()


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck(project: Path) -> None:
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", dockerfile, flags=re.MULTILINE | re.IGNORECASE)
    assert len(stages) >= 2, "expected a build stage and a runtime stage"
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users, "the runtime stage must switch to a non-root user"
    assert users[-1] not in {"root", "0", "0:0"}
    assert re.search(r"^HEALTHCHECK\s", dockerfile, flags=re.MULTILINE)
    assert "python:3.11" in dockerfile


def test_env_example_loads_whole_with_uv(project: Path) -> None:
    """Every Makefile target reads settings through `uv run --env-file`; a line it cannot parse drops the rest."""
    env_example = project / ".env.example"
    names = re.findall(r"^([A-Z][A-Z0-9_]*)=", env_example.read_text(encoding="utf-8"), flags=re.MULTILINE)
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
    printed = run(
        [uv, "run", "--no-project", "--env-file", str(env_example), "python", "-c", PRINT_ENV_NAMES, *names],
        cwd=project,
    )
    assert "Failed to parse" not in printed.stderr
    assert printed.stdout.split() == names


# Backquoted words of the generated README that name a file or directory of the project: a relative path, or a file
# name with one of these suffixes. `uv.lock` is written by the first `make install`; `backups/` is a bucket prefix.
README_PATH = re.compile(r"`([\w.-]+(?:/[\w.-]*)+|[\w.-]+\.(?:py|ya?ml|toml|json|ini))`")
NOT_IN_A_FRESH_PROJECT = {"uv.lock", "backups/"}


def test_readme_names_only_files_the_project_has(project: Path) -> None:
    """The README's layout, practices and feature sections point at real modules, tests and config files."""
    package = project / "src" / yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]
    file_names = {path.name for path in project.rglob("*")}
    named = set(README_PATH.findall((project / "README.md").read_text(encoding="utf-8"))) - NOT_IN_A_FRESH_PROJECT
    missing = sorted(
        name
        for name in named
        if not (project / name).exists()
        and not (package / name).exists()
        and not ("/" not in name and name in file_names)
    )
    assert missing == [], f"README.md names files the project does not have: {missing}"


def git_tree_of(work_tree: Path, autocrlf: str) -> str:
    """Commit-ready tree id of a work tree as a clone with the given core.autocrlf stores it."""
    run(["git", "init", "--quiet"], cwd=work_tree)
    run(["git", "-c", f"core.autocrlf={autocrlf}", "add", "--all"], cwd=work_tree)
    return run(["git", "write-tree"], cwd=work_tree).stdout.strip()


def test_windows_and_linux_checkouts_store_the_same_bytes(copie: Any, tmp_path: Path) -> None:
    """The generated .gitattributes makes line endings independent of the machine (core.autocrlf, CRLF editors)."""
    result = copie.copy(extra_answers={"project_name": "Line Shop", "phase": 2})
    assert result.exception is None, result.exception
    rendered = Path(result.project_dir)
    linux = tmp_path / "linux"
    shutil.copytree(rendered, linux)
    stored = git_tree_of(linux, autocrlf="false")

    for autocrlf in ("true", "false"):
        windows = tmp_path / f"windows-autocrlf-{autocrlf}"
        shutil.copytree(rendered, windows)
        for path in windows.rglob("*"):
            if path.is_file() and b"\0" not in (data := path.read_bytes()):
                path.write_bytes(data.replace(b"\n", b"\r\n"))
        assert git_tree_of(windows, autocrlf) == stored, f"CRLF files stored differently with core.autocrlf={autocrlf}"

    run(["git", "commit", "--quiet", "-m", "generated"], cwd=linux)
    clone = tmp_path / "windows-clone"
    run(["git", "-c", "core.autocrlf=true", "clone", "--quiet", str(linux), str(clone)], cwd=tmp_path)
    with_crlf = [
        str(path.relative_to(clone))
        for path in clone.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(clone).parts and b"\r\n" in path.read_bytes()
    ]
    assert with_crlf == [], "a core.autocrlf=true clone must check out LF, as the template renders"


def test_no_rendered_file_is_ignored_by_the_project_s_gitignore(project: Path) -> None:
    """An ignored file never reaches the project's first commit, and an upgrade cannot bring it either."""
    files = [str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()]
    run(["git", "init", "--quiet"], cwd=project)
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        input="\n".join(files),
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ignored.stdout.split() == [], ignored.stderr
