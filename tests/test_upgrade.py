"""`phaseup upgrade`, `update` and `status` on projects that carry a team's edits."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import copier
import pytest
from typer.testing import CliRunner

import generator
import generator.template_source as template_source
from generator.cli import app
from generator.new import create_project
from tests.conftest import REPO_ROOT, run, tree_snapshot
from tests.team_edits import a_line_the_phase_changes, answers_of, commit, make_team_edits

runner = CliRunner()


@pytest.fixture(autouse=True)
def bundled_template(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Use the template the way the installed wheel does: materialised into a tagged repository under PHASEUP_HOME."""
    monkeypatch.setattr(template_source, "BUNDLE_DIR", REPO_ROOT)
    monkeypatch.setenv("PHASEUP_HOME", str(tmp_path / "phaseup-home"))
    yield


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), prog_name="phaseup")
    return result.exit_code, result.stdout, result.stderr


def generate(tmp_path: Path, phase: int = 1, **answers: str) -> Path:
    project = tmp_path / "shop"
    create_project(project, phase=phase, data={"project_name": "Upgrade Shop", **answers}, defaults=True)
    return project


def git_state(project: Path) -> tuple[dict[str, bytes], bytes, str, str]:
    """Work tree bytes, index bytes, HEAD and status: everything an unchanged project keeps identical."""
    if not (project / ".git").exists():
        return tree_snapshot(project), b"", "", ""
    head = run(["git", "rev-parse", "HEAD"], cwd=project).stdout
    status = run(["git", "status", "--porcelain"], cwd=project).stdout
    return tree_snapshot(project), (project / ".git" / "index").read_bytes(), head, status


# --- refusals: one clear line, non-zero exit, nothing changed -------------------------------------------------------


def test_refuses_a_directory_that_is_not_a_git_repository(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    create_project(project, data={"project_name": "No Git"}, defaults=True, git=False)
    before = git_state(project)
    code, _, err = invoke("upgrade", "--to", "2", "-C", str(project))
    assert code == 1
    assert "is not a git repository" in err
    assert git_state(project) == before


def test_refuses_a_dirty_work_tree(tmp_path: Path) -> None:
    project = generate(tmp_path)
    readme = project / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nwork in progress\n", encoding="utf-8")
    before = git_state(project)

    code, _, err = invoke("upgrade", "--to", "2", "-C", str(project))

    assert code == 1
    assert "has uncommitted changes: commit or stash them first" in err
    assert git_state(project) == before


def test_refuses_a_project_without_answers(tmp_path: Path) -> None:
    project = tmp_path / "plain"
    project.mkdir()
    run(["git", "init", "--quiet"], cwd=project)
    (project / "main.py").write_text("print('hello')\n")
    commit(project, "init")
    code, _, err = invoke("upgrade", "--to", "2", "-C", str(project))
    assert code == 1
    assert "is not a phaseup project: it has no .copier-answers.yml" in err


@pytest.mark.parametrize(
    ("start", "target", "message"),
    [
        (1, "5", "unknown phase 5: choose one of 1, 2, 3"),
        (1, "two", "unknown phase two"),
        (1, "1", "the project is already at phase 1"),
        (2, "1", "the project is at phase 2; downgrading to phase 1 is not supported"),
    ],
)
def test_refuses_bad_targets(tmp_path: Path, start: int, target: str, message: str) -> None:
    project = generate(tmp_path, phase=start)
    before = git_state(project)
    code, out, err = invoke("upgrade", "--to", target, "-C", str(project))
    assert code == 1
    assert message in err
    assert "Traceback" not in out + err
    assert git_state(project) == before


def test_refuses_a_project_from_a_newer_phaseup(tmp_path: Path) -> None:
    project = generate(tmp_path)
    answers = project / ".copier-answers.yml"
    answers.write_text(
        answers.read_text(encoding="utf-8").replace(f"_commit: v{generator.__version__}", "_commit: v99.0.0")
    )
    commit(project, "pretend a newer phaseup rendered this")
    before = git_state(project)
    code, _, err = invoke("upgrade", "--to", "2", "-C", str(project))
    assert code == 1
    assert "last rendered by phaseup 99.0.0, newer than the installed" in err
    assert git_state(project) == before


def test_refuses_a_project_whose_template_version_is_not_available(tmp_path: Path) -> None:
    project = generate(tmp_path)
    answers = project / ".copier-answers.yml"
    recorded = answers.read_text(encoding="utf-8")
    answers.write_text(recorded.replace(f"_commit: v{generator.__version__}", "_commit: v0.0.1"), encoding="utf-8")
    commit(project, "pretend an older phaseup, not installed here, rendered this")
    before = git_state(project)
    code, out, err = invoke("upgrade", "--to", "2", "-C", str(project))
    assert code == 1
    assert "the template version the project records (v0.0.1) is not in" in err
    assert "Traceback" not in out + err
    assert git_state(project) == before


# --- dry run and status ---------------------------------------------------------------------------------------------


def test_dry_run_prints_the_diff_and_changes_nothing(tmp_path: Path) -> None:
    project = generate(tmp_path)
    before = git_state(project)

    code, out, err = invoke("upgrade", "--to", "2", "--dry-run", "-C", str(project))

    assert code == 0, err
    assert "+phase: 2" in out
    assert "dry run: nothing was changed" in err
    assert git_state(project) == before


def test_status_reports_phase_version_and_updates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = generate(tmp_path)
    code, out, _ = invoke("status", "-C", str(project))
    assert code == 0
    assert "phase:     1" in out
    assert f"v{generator.__version__}" in out
    assert "(up to date)" in out

    monkeypatch.setattr(generator, "__version__", "99.0.0")
    code, out, _ = invoke("status", "-C", str(project))
    assert "update available: run `phaseup update`" in out


def test_status_refuses_a_non_project(tmp_path: Path) -> None:
    code, _, err = invoke("status", "-C", str(tmp_path))
    assert code == 1
    assert "is not a phaseup project" in err


def test_update_to_a_newer_release_keeps_phase_and_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project from release A is brought to release B's template; the team's edit survives."""
    project = generate(tmp_path)
    service = next((project / "src" / "upgrade_shop" / "services").glob("*.py"))
    service.write_text(service.read_text(encoding="utf-8") + "\n\nTEAM_CONSTANT = 42\n", encoding="utf-8")
    commit(project, "team edit")

    # Stage "release 99.0.0" whose template adds a file, and materialise it as the wheel of that release would.
    staged = tmp_path / "release"
    staged.mkdir()
    for name in template_source.TEMPLATE_ENTRIES:
        run(["cp", "-r", str(REPO_ROOT / name), str(staged / name)], cwd=tmp_path)
    (staged / "template" / "CHANGELOG.md").write_text("# Changelog\n\n## 99.0.0\n", encoding="utf-8")
    monkeypatch.setattr(template_source, "BUNDLE_DIR", staged)
    monkeypatch.setattr(generator, "__version__", "99.0.0")

    code, out, err = invoke("update", "-C", str(project))

    assert code == 0, err
    assert "CHANGELOG.md" in out
    assert answers_of(project)["_commit"] == "v99.0.0"
    assert answers_of(project)["phase"] == 1
    assert "TEAM_CONSTANT = 42" in service.read_text(encoding="utf-8")
    code, _, err = invoke("update", "-C", str(project))
    assert code == 1  # dirty now, and refused before anything else


# --- upgrades of edited projects -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "target"), [(1, 2), (1, 3), (2, 3)])
def test_upgrade_keeps_every_edit_and_reports_the_conflict(tmp_path: Path, start: int, target: int) -> None:
    project = generate(tmp_path, phase=start)
    conflict_file, conflict_line = a_line_the_phase_changes(tmp_path, project, target)
    expectations = make_team_edits(project, conflict_file, conflict_line)

    code, out, err = invoke("upgrade", "--to", str(target), "-C", str(project))

    assert code == 3, out + err
    assert "file(s) have conflicts to resolve" in err
    assert f"Phase {start} -> {target}" in out
    assert f"CONFLICTED (1):\n  {conflict_file}" in out
    conflicted = (project / conflict_file).read_text(encoding="utf-8")
    assert "<<<<<<<" in conflicted and ">>>>>>>" in conflicted
    assert conflict_line + " (edited by the team)" in conflicted
    for name, line in expectations.items():
        assert line in (project / name).read_text(encoding="utf-8").splitlines(), name
    assert not (project / ".pre-commit-config.yaml").exists()
    assert answers_of(project)["phase"] == target

    # Everything the upgrade did is in the work tree only: git can take it all back.
    run(["git", "checkout", "--", "."], cwd=project)
    run(["git", "clean", "-fdq"], cwd=project)
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    assert answers_of(project)["phase"] == start


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_line_edits_survive_or_are_reported(tmp_path: Path, seed: int) -> None:
    """Seeded random, non-overlapping edits to generated Python files: each edited line survives or is a conflict."""
    project = generate(tmp_path)
    rng = random.Random(seed)
    python_files = sorted(path for path in project.rglob("*.py") if ".git" not in path.parts)
    edited: dict[Path, list[str]] = {}
    for path in rng.sample(python_files, k=min(6, len(python_files))):
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines:
            continue
        chosen = sorted(rng.sample(range(len(lines)), k=min(3, len(lines))))
        markers = []
        for number in chosen:
            marker = f"# team edit {seed}-{path.stem}-{number}"
            lines[number] = f"{lines[number]}  {marker}" if lines[number].strip() else marker
            markers.append(marker)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        edited[path] = markers
    commit(project, "random edits")

    code, out, err = invoke("upgrade", "--to", "2", "-C", str(project))

    assert code in (0, 3), out + err
    for path, markers in edited.items():
        relative = str(path.relative_to(project))
        text = path.read_text(encoding="utf-8")
        for marker in markers:
            assert marker in text or relative in out.split("CONFLICTED")[-1], (relative, marker)


def test_plain_copier_update_on_a_checkout_generated_project(tmp_path: Path) -> None:
    """`copier update -d phase=2` works for a project a user generated with plain Copier from a git checkout."""
    checkout = tmp_path / "phaseup-checkout"
    run(["git", "clone", "--quiet", str(REPO_ROOT), str(checkout)], cwd=tmp_path)
    project = tmp_path / "plain"
    copier.run_copy(str(checkout), project, data={"project_name": "Plain Shop"}, defaults=True, unsafe=True, quiet=True)
    run(["git", "init", "--quiet"], cwd=project)
    commit(project, "generated with copier")

    result = subprocess.run(
        ["copier", "update", "--trust", "--defaults", "--skip-answered", "-d", "phase=2"],
        cwd=project,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.returncode == 0, result.stderr
    assert answers_of(project)["phase"] == 2
