"""The CLI, through Typer's runner and through the installed console script in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import copier
import pytest
import yaml
from typer.testing import CliRunner

from generator import __version__
from generator.cli import app
from generator.contract import features_of
from generator.copier_run import run_copier
from tests.conftest import REPO_ROOT

PHASEUP = Path(sys.executable).with_name("phaseup")
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), prog_name="phaseup")
    return result.exit_code, result.stdout, result.stderr


def answers_of(project: Path) -> dict[str, object]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def test_version_and_help() -> None:
    code, out, _ = invoke("--version")
    assert (code, out.strip()) == (0, f"phaseup {__version__}")
    code, out, _ = invoke("--help")
    assert code == 0
    assert "new" in out and "--install-completion" in out
    code, out, _ = invoke("new", "--help")
    assert code == 0
    for option in ("--phase", "--data", "--defaults", "--no-git"):
        assert option in out


def test_no_arguments_shows_help() -> None:
    code, out, err = invoke()
    assert code != 0 or "Usage" in out
    assert "Usage" in out + err


def test_new_with_defaults(tmp_path: Path) -> None:
    destination = tmp_path / "my-app"
    code, out, err = invoke("new", str(destination), "--defaults")

    assert code == 0, err
    assert "at phase 1" in out
    answers = answers_of(destination)
    assert answers["project_name"] == "my-app"
    assert answers["project_slug"] == "my_app"
    assert answers["phase"] == 1
    assert answers["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    status = subprocess.run(["git", "status", "--porcelain"], cwd=destination, capture_output=True, text=True)
    assert status.stdout == ""  # generated and committed: ready for a later upgrade
    log = subprocess.run(["git", "log", "--oneline"], cwd=destination, capture_output=True, text=True)
    assert len(log.stdout.splitlines()) == 1


def test_new_with_phase_preset_and_data(tmp_path: Path) -> None:
    destination = tmp_path / "shop"
    code, _, err = invoke(
        "new", str(destination), "--phase", "2", "--data", "project_name=Acme Shop", "--data", "ci=gitlab", "--no-git"
    )

    assert code == 0, err
    answers = answers_of(destination)
    assert (answers["phase"], answers["ci"], answers["project_slug"]) == (2, "gitlab", "acme_shop")
    assert not (destination / ".git").exists()


def test_new_into_an_empty_existing_directory(tmp_path: Path) -> None:
    destination = tmp_path / "empty"
    destination.mkdir()
    code, _, err = invoke("new", str(destination), "--defaults")
    assert code == 0, err
    assert answers_of(destination)["project_slug"] == "empty"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--data", "project_slug=Bad-Slug"], "question 'project_slug': The slug \"Bad-Slug\" must be"),
        (["--data", "project_slug=import"], "clashes with a Python keyword or standard-library module"),
        (["--data", "project_slug=json"], "clashes with a Python keyword or standard-library module"),
        (["--data", "project_name=  "], "The project name must not be empty"),
        (["--phase", "4"], "unknown phase 4: choose one of 1, 2, 3"),
        (["--data", "phase=0"], "unknown phase 0"),
        (["--data", "colour=blue"], "unknown --data key colour"),
        (["--data", "colour"], "malformed --data 'colour': expected KEY=VALUE"),
        (["--data", "ci=jenkins"], "invalid ci 'jenkins': choose one of github, gitlab, none"),
        (["--data", "author_email=nobody"], '"nobody" is not an e-mail address'),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(tmp_path: Path, arguments: list[str], message: str) -> None:
    destination = tmp_path / "bad_input"
    code, out, err = invoke("new", str(destination), "--defaults", *arguments)

    assert code == 1
    assert message in err
    assert err.startswith("phaseup: error: ")
    assert "Traceback" not in out + err
    assert not destination.exists()
    assert sorted(tmp_path.iterdir()) == []


def test_destination_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    destination = tmp_path / "taken"
    destination.mkdir()
    (destination / "notes.txt").write_text("mine\n")

    code, _, err = invoke("new", str(destination), "--defaults")

    assert code == 1
    assert f"destination {destination} exists and is not empty" in err
    assert [path.name for path in destination.iterdir()] == ["notes.txt"]
    assert (destination / "notes.txt").read_text() == "mine\n"


def test_destination_that_is_a_file_is_refused(tmp_path: Path) -> None:
    destination = tmp_path / "file"
    destination.write_text("x")
    code, _, err = invoke("new", str(destination), "--defaults")
    assert code == 1
    assert "exists and is not a directory" in err
    assert destination.read_text() == "x"


def test_console_script_in_a_real_subprocess(tmp_path: Path) -> None:
    assert PHASEUP.is_file(), "run the tests from an environment where phaseup is installed"
    version = subprocess.run([PHASEUP, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"phaseup {__version__}"

    completion = subprocess.run([PHASEUP, "--show-completion", "bash"], capture_output=True, text=True, check=True)
    assert "_PHASEUP_COMPLETE" in completion.stdout

    created = subprocess.run(
        [PHASEUP, "new", "svc", "--phase", "3", "-d", "project_name=Subprocess Svc", "-d", "session_backend=redis"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert created.returncode == 0, created.stderr
    answers = answers_of(tmp_path / "svc")
    assert (answers["phase"], answers["session_backend"]) == (3, "redis")

    refused = subprocess.run([PHASEUP, "new", "svc", "--defaults"], cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"phaseup: error: destination {tmp_path / 'svc'} exists and is not empty"
    ]


# --- every failure is one line ----------------------------------------------------------------------------------------


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phaseup: error: "), err
    return lines[0]


@pytest.mark.parametrize("where", ["under a regular file", "in a read-only file system"])
def test_an_unwritable_destination_is_one_line(tmp_path: Path, where: str) -> None:
    if where == "under a regular file":
        (tmp_path / "notes.txt").write_text("mine\n")
        destination, reason = tmp_path / "notes.txt" / "my-app", f"{tmp_path / 'notes.txt'} is a file, not a directory"
    else:
        destination, reason = Path("/proc/self/phaseup-my-app"), "phaseup: error: cannot create /proc/"  # even as root
    code, out, err = invoke("new", str(destination), "--defaults")
    assert code == 1
    assert reason in one_error_line(err)
    assert "Traceback" not in out + err


def test_git_missing_from_path_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    result = subprocess.run(
        [PHASEUP, "new", "svc", "--defaults"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(empty)},
    )
    assert result.returncode == 1
    assert one_error_line(result.stderr) == "phaseup: error: git is not installed or not on PATH; phaseup needs git"
    assert not (tmp_path / "svc").exists()


def test_an_unexpected_failure_is_one_line_asking_for_a_bug_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something phaseup did not foresee")

    monkeypatch.setattr("generator.new.create_project", broken)
    code, _, err = invoke("new", str(tmp_path / "x"), "--defaults")
    assert code == 1
    line = one_error_line(err)
    assert "unexpected RuntimeError: something phaseup did not foresee" in line
    assert "please report it" in line


def test_a_project_nested_in_a_template_checkout_is_harmless(tmp_path: Path) -> None:
    """A project generated inside a development checkout (README's "Try it") is a nested git repository there;
    Copier's snapshot of the dirty checkout must not turn it into a submodule without a URL."""
    checkout = tmp_path / "phaseup-checkout"
    (checkout / "template").mkdir(parents=True)
    (checkout / "copier.yml").write_text("_subdirectory: template\nname:\n  type: str\n  default: demo\n")
    (checkout / "template" / "greeting.txt.jinja").write_text("hello {{ name }}\n")
    for command in (["git", "init", "--quiet"], ["git", "add", "--all"], ["git", "commit", "--quiet", "-m", "t"]):
        subprocess.run(command, cwd=checkout, check=True, capture_output=True)
    nested = checkout / "my-app"
    nested.mkdir()
    subprocess.run(["git", "init", "--quiet"], cwd=nested, check=True)
    (nested / "app.py").write_text("print('mine')\n")
    (checkout / "template" / "greeting.txt.jinja").write_text("hello again {{ name }}\n")  # an uncommitted edit

    destination = tmp_path / "rendered"
    run_copier(lambda: copier.run_copy(str(checkout), destination, vcs_ref="HEAD", defaults=True, quiet=True), checkout)

    assert (destination / "greeting.txt").read_text() == "hello again demo\n"
    assert (nested / "app.py").read_text() == "print('mine')\n"


def test_phase_3_says_its_features_are_not_built_yet(tmp_path: Path) -> None:
    answers = {"phase": 3, "session_backend": "database"}
    unbuilt = features_of(REPO_ROOT, answers) == features_of(REPO_ROOT, {**answers, "phase": 2})
    code, _, err = invoke("new", str(tmp_path / "p3"), "--phase", "3", "--no-git")
    assert code == 0, err
    note = "note: phase 3's features are not built in this release; the project records phase 3 but gets phase 2's"
    assert (note in err) == unbuilt
