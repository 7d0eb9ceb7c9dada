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
from generator.cli import _print_report as print_report
from generator.cli import app
from generator.contract import features_of
from generator.new import create_project
from generator.upgrade import UpgradeReport
from generator.writeback import FileWrite, apply_writes
from tests.conftest import REPO_ROOT, run, tree_snapshot
from tests.team_edits import a_line_the_phase_changes, answers_of, commit, make_team_edits, render

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


def summary_body(out: str) -> list[str]:
    """The summary without the dry-run label and the lines that only say how to apply or undo it."""
    return [
        line
        for line in out.splitlines()
        if not line.startswith("DRY RUN") and "phaseup upgrade --to" not in line and "git add --all" not in line
    ]


def test_dry_run_prints_the_summary_and_exit_code_of_the_real_run(tmp_path: Path) -> None:
    project = generate(tmp_path)
    conflict_file, conflict_line = a_line_the_phase_changes(tmp_path, project, 2)
    make_team_edits(project, conflict_file, conflict_line)
    before = git_state(project)

    dry_code, dry_out, dry_err = invoke("upgrade", "--to", "2", "--dry-run", "-C", str(project))

    assert git_state(project) == before
    assert dry_out.startswith("DRY RUN: nothing was changed. `phaseup upgrade --to 2` would do this:\n")
    assert f"CONFLICTED (1):\n  {conflict_file}" in dry_out
    code, out, err = invoke("upgrade", "--to", "2", "-C", str(project))
    assert (dry_code, code) == (3, 3), dry_err + err
    assert summary_body(dry_out) == summary_body(out)
    assert "1 file(s) have conflicts to resolve" in dry_err


def test_status_reports_phase_version_and_updates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = generate(tmp_path)
    code, out, _ = invoke("status", "-C", str(project))
    assert code == 0
    assert "phase:     1" in out
    assert f"v{generator.__version__}" in out
    assert "(up to date)" in out
    assert "phase 2 adds: cache — Redis caching of the hot item reads" in out

    monkeypatch.setattr(generator, "__version__", "99.0.0")
    code, out, _ = invoke("status", "-C", str(project))
    assert "update available: run `phaseup update`" in out


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ("v0.0.1", "the project's template v0.0.1 is not available here, so `phaseup update` cannot merge"),
        ("v99.0.0", "older than the project's template v99.0.0: upgrade phaseup"),
        ("0f1e2d3", "the project records template '0f1e2d3', not a phaseup release"),
    ],
)
def test_status_is_honest_about_templates_it_cannot_update_from(tmp_path: Path, recorded: str, expected: str) -> None:
    project = generate(tmp_path)
    answers = project / ".copier-answers.yml"
    answers.write_text(
        answers.read_text(encoding="utf-8").replace(f"_commit: v{generator.__version__}", f"_commit: {recorded}"),
        encoding="utf-8",
    )
    commit(project, "pretend another phaseup rendered this")

    code, out, err = invoke("status", "-C", str(project))

    assert code == 0, err
    assert expected in out
    assert "up to date" not in out
    assert "update available" not in out


def test_every_command_finds_the_project_root_from_a_subdirectory(tmp_path: Path) -> None:
    project = generate(tmp_path)
    package = project / "src" / "upgrade_shop"

    code, out, err = invoke("status", "-C", str(package))
    assert code == 0, err
    assert f"({project})" in out

    code, out, err = invoke("upgrade", "--to", "2", "-C", str(package))
    assert code == 0, err
    assert answers_of(project)["phase"] == 2
    assert not (package / ".copier-answers.yml").exists()


def test_errors_about_the_answers_file_name_it(tmp_path: Path) -> None:
    project = generate(tmp_path)
    answers = project / ".copier-answers.yml"
    answers.write_text("_commit: [unclosed\n", encoding="utf-8")
    commit(project, "break the answers file")
    code, _, err = invoke("upgrade", "--to", "2", "-C", str(project))
    assert code == 1
    assert err.startswith(f"phaseup: error: cannot read {answers}: ")
    assert len(err.strip().splitlines()) == 1

    answers.write_text("phase: 1\n", encoding="utf-8")
    commit(project, "answers without a version")
    code, _, err = invoke("status", "-C", str(project))
    assert code == 1
    assert f"{answers} does not record a phaseup template version (_commit) and phase" in err


def test_update_with_nothing_to_do_says_so(tmp_path: Path) -> None:
    project = generate(tmp_path)
    before = git_state(project)
    code, out, err = invoke("update", "-C", str(project))
    assert code == 0, err
    assert f"Nothing to update: the project already matches phaseup v{generator.__version__}'s template." in out
    assert "commit" not in out
    assert git_state(project) == before


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
    for name in {*template_source.TEMPLATE_ENTRIES, "features.yml"}:
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
    code, out, _ = invoke("update", "-C", str(project))
    assert code == 0
    assert out.startswith("Nothing to update: the project already matches phaseup v99.0.0's template.")


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
    answers = answers_of(project)
    same_features = features_of(REPO_ROOT, answers) == features_of(REPO_ROOT, {**answers, "phase": target - 1})
    assert (f"note: phase {target}'s features are not built in this release" in err) == same_features
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


# --- template changes that cannot land, line endings, the write-back --------------------------------------------------


def files_the_phase_changes(tmp_path: Path, project: Path, to_phase: int) -> list[str]:
    """Files of the project's recorded render that the target phase's template modifies, tests first."""
    answers = {key: value for key, value in answers_of(project).items() if not key.startswith("_")}
    before = render(tmp_path, "before", answers)
    after = render(tmp_path, "after", {**answers, "phase": to_phase})
    changed = [
        str(path.relative_to(before))
        for path in sorted(before.rglob("*"))
        if path.is_file()
        and path.name != ".copier-answers.yml"
        and (after / path.relative_to(before)).is_file()
        and (after / path.relative_to(before)).read_bytes() != path.read_bytes()
    ]
    return sorted(changed, key=lambda name: not name.startswith("tests/"))


def test_template_changes_to_renamed_or_deleted_files_are_listed_with_their_diff(tmp_path: Path) -> None:
    project = generate(tmp_path)
    renamed, deleted = files_the_phase_changes(tmp_path, project, 2)[:2]
    moved_to = str(Path(renamed).with_name("moved_" + Path(renamed).name))
    run(["git", "mv", renamed, moved_to], cwd=project)
    run(["git", "rm", "--quiet", deleted], cwd=project)
    commit(project, "the team renamed one file and deleted another")
    moved_before = (project / moved_to).read_bytes()

    code, out, err = invoke("upgrade", "--to", "2", "-C", str(project))

    assert code == 0, out + err
    assert "template changes NOT applied, because your team deleted or renamed the file (2):" in out
    assert f"  {renamed} (renamed to {moved_to}): the template changes it; its diff: " in out
    assert f"  {deleted} (deleted): the template changes it; its diff: phaseup-unapplied-changes/{deleted}.diff" in out
    saved = (project / "phaseup-unapplied-changes" / f"{renamed}.diff").read_text(encoding="utf-8")
    assert saved.startswith(f"diff --git a/{renamed} b/{renamed}\n")
    assert "\n+" in saved
    assert (project / moved_to).read_bytes() == moved_before
    assert not (project / deleted).exists() and not (project / renamed).exists()
    assert "?? phaseup-unapplied-changes/" in run(["git", "status", "--porcelain"], cwd=project).stdout
    run(["git", "checkout", "--", "."], cwd=project)
    run(["git", "clean", "-fdq"], cwd=project)
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""


def with_crlf(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def is_crlf(path: Path) -> bool:
    data = path.read_bytes()
    return data.count(b"\r\n") > 0 and data.count(b"\r\n") == data.count(b"\n")


@pytest.mark.parametrize(
    "how",
    [
        "checkout with core.autocrlf=true",
        "checkout with core.autocrlf=true and a .gitattributes",
        "a hand-edited file saved with CRLF",
    ],
)
def test_crlf_projects_upgrade_like_lf_ones(tmp_path: Path, how: str) -> None:
    """Projects without the generated `.gitattributes` (rendered by 0.1.0, or the team removed it) or with one that
    lets Windows checkouts have CRLF: the merge must not see every line as changed."""
    lf = generate(tmp_path)
    conflict_file, conflict_line = a_line_the_phase_changes(tmp_path, lf, 2)
    if how.endswith(".gitattributes"):
        (lf / ".gitattributes").write_text("* text=auto\n", encoding="utf-8")  # committed with the team's edits
    else:
        (lf / ".gitattributes").unlink()
    make_team_edits(lf, conflict_file, conflict_line)
    crlf = tmp_path / "twin"
    run(["cp", "-a", str(lf), str(crlf)], cwd=tmp_path)
    if how.startswith("checkout"):
        run(["git", "config", "core.autocrlf", "true"], cwd=crlf)
        run(["git", "rm", "-r", "--cached", "--quiet", "."], cwd=crlf)
        run(["git", "reset", "--quiet", "--hard"], cwd=crlf)
        assert is_crlf(crlf / "README.md")
    else:
        with_crlf(crlf / ".env.example")  # edited by the team (make_team_edits) and changed by the phase
        commit(crlf, "saved on Windows")

    lf_code, lf_out, lf_err = invoke("upgrade", "--to", "2", "-C", str(lf))
    code, out, err = invoke("upgrade", "--to", "2", "-C", str(crlf))

    assert (code, lf_code) == (3, 3), err + lf_err
    assert out == lf_out  # same files added, changed and conflicted
    status = run(["git", "status", "--porcelain"], cwd=crlf).stdout.splitlines()
    assert len(status) == len(run(["git", "status", "--porcelain"], cwd=lf).stdout.splitlines())
    env_example = crlf / ".env.example"
    assert is_crlf(env_example)
    assert "LOYALTY_RATE=3" in env_example.read_text(encoding="utf-8")
    assert "REDIS_URL=" in env_example.read_text(encoding="utf-8")
    if how.startswith("checkout"):
        assert is_crlf(crlf / conflict_file)
        added = out.split("added (")[1].splitlines()[1].strip()
        assert is_crlf(crlf / added), added  # a new file gets what git's checkout would give it


def test_write_back_stages_everything_before_changing_anything(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    (live / "kept.txt").write_bytes(b"before\n")
    (live / "blocker").write_bytes(b"a file where a directory would have to be\n")
    writes = [FileWrite("kept.txt", content=b"after\n"), FileWrite("blocker/new.txt", content=b"new\n")]

    with pytest.raises(OSError):
        apply_writes(live, writes)

    assert tree_snapshot(live) == {"kept.txt": b"before\n", "blocker": b"a file where a directory would have to be\n"}


def test_the_summary_reports_joined_migration_heads(capsys: pytest.CaptureFixture[str]) -> None:
    merge = "migrations/versions/0004_merge_heads.py"
    report = UpgradeReport(1, 2, "v1", "v2", added=[merge], migration_heads_joined_by=merge)
    print_report(report, dry_run=False, command="phaseup upgrade --to 2")
    out = capsys.readouterr().out
    assert f"added (1):\n  {merge}\n" in out
    assert f"migration heads joined by {merge}" in out
    assert "  make migrate\n" in out
