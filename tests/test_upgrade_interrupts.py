"""A real `phaseup upgrade --to 2` process receiving a real SIGINT or SIGTERM at several moments.

Whenever the signal lands, the project ends either exactly as it was (work tree, index, HEAD), with one line saying
nothing was changed, or completely upgraded, with the summary and the exit code of a finished upgrade.
"""

from __future__ import annotations

import errno
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer

import generator.template_source as template_source
from generator import cli
from generator.interrupts import Terminated
from generator.new import create_project
from generator.upgrade import UpgradePlan
from tests.conftest import REPO_ROOT, run, tree_snapshot

# phaseup as the installed wheel runs it: the template bundled beside the package and materialised under PHASEUP_HOME.
PHASEUP = [
    sys.executable,
    "-c",
    "from generator.cli import main; from pathlib import Path; import generator.template_source as source; "
    f"source.BUNDLE_DIR = Path({str(REPO_ROOT)!r}); main()",
]
NOTHING_CHANGED = "phaseup: interrupted: nothing was changed\n"


@pytest.fixture(autouse=True)
def bundled_template(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setattr(template_source, "BUNDLE_DIR", REPO_ROOT)
    monkeypatch.setenv("PHASEUP_HOME", str(tmp_path / "phaseup-home"))
    yield


def git_state(project: Path) -> tuple[dict[str, bytes], bytes, str]:
    head = run(["git", "rev-parse", "HEAD"], cwd=project).stdout
    return tree_snapshot(project), (project / ".git" / "index").read_bytes(), head


def copy_of(base: Path, name: str) -> Path:
    copy = base.parent / name
    run(["cp", "-a", str(base), str(copy)], cwd=base.parent)
    return copy


@pytest.fixture
def base(tmp_path: Path) -> Path:
    project = tmp_path / "base"
    create_project(project, data={"project_name": "Interrupted Shop"}, defaults=True)
    return project


def upgraded_tree(base: Path) -> tuple[dict[str, bytes], float]:
    """The tree an uninterrupted upgrade leaves, and how long that upgrade took."""
    reference = copy_of(base, "reference")
    started = time.monotonic()
    finished = subprocess.run([*PHASEUP, "upgrade", "--to", "2"], cwd=reference, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    return tree_snapshot(reference), time.monotonic() - started


def interrupt_at(project: Path, seconds: float, signal_number: int) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [*PHASEUP, "upgrade", "--to", "2"], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(seconds)
    if process.poll() is None:
        process.send_signal(signal_number)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize(
    ("signal_number", "moments"),
    [(signal.SIGINT, (0.3, 1.0, 2.0, 3.0)), (signal.SIGTERM, (1.0, 2.5))],
    ids=["SIGINT", "SIGTERM"],
)
def test_an_interrupted_upgrade_changes_nothing_or_finishes(
    base: Path, signal_number: int, moments: tuple[float, ...]
) -> None:
    expected, duration = upgraded_tree(base)
    before = git_state(base)
    outcomes = []
    # Fixed moments, plus moments near the end of a full run, where the write-back happens.
    for number, seconds in enumerate((*moments, 0.9 * duration, 0.97 * duration)):
        project = copy_of(base, f"interrupted-{number}")
        result = interrupt_at(project, seconds, signal_number)
        assert "Traceback" not in result.stdout + result.stderr, (seconds, result.stderr)
        if result.returncode == 128 + signal_number:
            assert result.stderr == NOTHING_CHANGED, (seconds, result.stderr)
            assert git_state(project) == before, seconds
            outcomes.append("unchanged")
        else:
            assert result.returncode == 0, (seconds, result.returncode, result.stderr)
            assert result.stdout.startswith("Phase 1 -> 2, template "), seconds
            assert tree_snapshot(project) == expected, seconds
            assert git_state(project)[1:] == before[1:], seconds  # index and HEAD untouched
            outcomes.append("upgraded")
    assert outcomes[0] == "unchanged", outcomes  # the first moment is always well before the write


def test_a_clean_up_that_fails_behind_an_interrupt_still_reports_the_interrupt(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Seen for real under load: SIGTERM stops the merge while a git child process still writes into a temporary
    directory, whose removal then fails with 'Directory not empty'. The user interrupted; nothing was written."""

    @contextmanager
    def merge_stopped_while_cleaning_up() -> Iterator[UpgradePlan]:
        try:
            raise Terminated
        finally:
            raise OSError(errno.ENOTEMPTY, "Directory not empty", ".git")
        yield  # a generator, as a context manager must be; never reached

    with pytest.raises(typer.Exit) as exited:
        cli._merge(merge_stopped_while_cleaning_up, dry_run=False, command="upgrade")

    assert exited.value.exit_code == 128 + signal.SIGTERM
    assert capsys.readouterr().err == NOTHING_CHANGED
