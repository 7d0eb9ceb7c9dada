"""The CLI, through Typer's runner and through the installed console script in a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from generator import __version__
from generator.cli import app

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
