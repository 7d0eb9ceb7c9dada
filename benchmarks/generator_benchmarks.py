"""Items 1 and 2: how long `phaseup new` and `phaseup upgrade` take, next to plain Copier doing the same work."""

from __future__ import annotations

import filecmp
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.measure import Report, rotated, run_command, timed_command
from benchmarks.toolchain import Phaseup

PROJECT_NAME = "Bench Shop"
PROJECT_SLUG = "bench_shop"
RUNNING_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
ANSWERS = ("-d", f"project_name={PROJECT_NAME}", "-d", f"python_version={RUNNING_PYTHON}")
CONFLICT_MARKER = re.compile(r"^<<<<<<< ", flags=re.MULTILINE)

Command = Callable[[Path], Sequence[str | Path]]


def _different_files(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two project trees (git metadata ignored)."""
    differences: list[str] = []

    def walk(node: filecmp.dircmp[str], prefix: str) -> None:
        differences.extend(prefix + name for name in node.left_only + node.right_only + node.diff_files)
        for name, child in node.subdirs.items():
            walk(child, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right, ignore=[".git"]), "")
    return sorted(differences)


def _run_interleaved(
    report: Report, commands: dict[str, Command], repeats: int, make_destination: Callable[[str, int], Path], **kwargs
) -> None:
    """Time every command once per repeat, in a rotating order, each in a fresh destination."""
    cases = {label: report.case(label) for label in commands}
    for repeat in range(repeats):
        for label in rotated(list(commands), repeat):
            destination = make_destination(label, repeat)
            seconds, _ = timed_command(commands[label](destination), **kwargs)
            cases[label].add("wall_s", seconds)


def generation(phaseup: Phaseup, scratch: Path, repeats: int) -> Report:
    report = Report("generation", "1. Generation: `phaseup new --defaults` vs plain `copier copy`, same answers")
    work = scratch / "generation"
    work.mkdir()
    commands: dict[str, Command] = {
        "phaseup new": lambda dest: [phaseup.phaseup, "new", dest, "--defaults", *ANSWERS],
        "phaseup new --no-git": lambda dest: [phaseup.phaseup, "new", dest, "--defaults", "--no-git", *ANSWERS],
        "copier copy": lambda dest: [
            phaseup.copier, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", phaseup.tag,
            *ANSWERS, phaseup.template_repo, dest,
        ],
        # Start-up alone (interpreter and imports), to tell it apart from the generation work.
        "phaseup --version": lambda dest: [phaseup.phaseup, "--version"],
        "copier --version": lambda dest: [phaseup.copier, "--version"],
    }  # fmt: skip
    # The first `phaseup new` also writes the bundled template into PHASEUP_HOME as a tagged git repository (once
    # per installed version); plain Copier needs that repository, so this run comes first and stays out of the medians.
    first, _ = timed_command(commands["phaseup new"](work / "first"), env=phaseup.env)
    report.notes.append(
        f"The first `phaseup new` after installing also writes the template repository: {first:.2f} s "
        "(once per installed version, not in the medians)."
    )
    keys = {label: label.replace(" ", "_").replace("-", "") for label in commands}
    _run_interleaved(report, commands, repeats, lambda label, repeat: work / f"{keys[label]}_{repeat}", env=phaseup.env)
    # Same template version and answers: both must write the same files, or the ratio compares different work.
    differing = _different_files(work / f"{keys['phaseup new --no-git']}_0", work / f"{keys['copier copy']}_0")
    if differing:
        report.notes.append(f"phaseup new and copier copy wrote different files: {', '.join(differing[:10])}")
    else:
        report.notes.append("`phaseup new --no-git` and `copier copy` wrote identical trees.")
    by_label = {case.label: case for case in report.cases}
    report.ratio("phaseup new / copier copy", by_label["phaseup new"], by_label["copier copy"], "wall_s")
    report.ratio(
        "phaseup new --no-git / copier copy", by_label["phaseup new --no-git"], by_label["copier copy"], "wall_s"
    )
    report.ratio(
        "phaseup --version / copier --version", by_label["phaseup --version"], by_label["copier --version"], "wall_s"
    )
    return report


def _team_edits(project: Path) -> int:
    """Edit a fresh project the way a team would in its first weeks; returns the number of lines added.

    New modules (a service, its API and tests), plus edits to files the template owns (README, main.py,
    .env.example, Makefile), so the upgrade has to merge, not just add files.
    """
    package = project / "src" / PROJECT_SLUG
    functions = [
        f'''def weekly_total_{n}(amounts: list[int]) -> int:
    """Sum of the week's amounts for report {n}, ignoring refunds."""
    return sum(amount for amount in amounts if amount > 0) * {n + 1}
'''
        for n in range(40)
    ]
    service = '"""Reports the team added: weekly totals per report."""\n\n\n' + "\n\n".join(functions)
    tests = "from bench_shop.services import reports\n\n\n" + "\n\n".join(
        f"def test_weekly_total_{n}() -> None:\n    assert reports.weekly_total_{n}([3, -1, 2]) == {5 * (n + 1)}\n"
        for n in range(40)
    )
    router = '''"""Weekly report totals over HTTP."""

from fastapi import APIRouter

from bench_shop.services import reports

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/weekly")
def weekly(amounts: str = "") -> dict[str, int]:
    values = [int(part) for part in amounts.split(",") if part]
    return {"total": reports.weekly_total_0(values)}
'''
    added = {
        package / "services" / "reports.py": service,
        package / "api" / "reports.py": router,
        project / "tests" / "test_reports.py": tests,
    }
    for path, text in added.items():
        path.write_text(text, encoding="utf-8")
    lines = sum(text.count("\n") for text in added.values())

    appended = {
        project / "README.md": "\n## Reports (team notes)\n\n"
        + "".join(f"- Report {n}: weekly totals, refunds ignored.\n" for n in range(30)),
        project / ".env.example": "\n# Team: how many weeks a report covers\nREPORT_WEEKS=4\n",
        project
        / "Makefile": "\nreports: ## Print this week's report totals\n\tuv run python -m bench_shop.services.reports\n",
    }
    for path, text in appended.items():
        before = path.read_text(encoding="utf-8") if path.is_file() else ""
        path.write_text(before + text, encoding="utf-8")
        lines += text.count("\n")

    main = package / "main.py"
    source = main.read_text(encoding="utf-8")
    source = source.replace("from bench_shop.api import ", "from bench_shop.api import reports, ", 1)
    source = source.replace("    return app\n", "    app.include_router(reports.router)\n    return app\n", 1)
    main.write_text(source, encoding="utf-8")
    return lines + 2


def upgrade(phaseup: Phaseup, scratch: Path, repeats: int) -> Report:
    report = Report("upgrade", "2. Upgrade: `phaseup upgrade --to 2` on an edited project vs plain `copier update`")
    work = scratch / "upgrade"
    work.mkdir()
    base = work / "base"
    run_command([phaseup.phaseup, "new", base, "--defaults", *ANSWERS], env=phaseup.env)
    edited_lines = _team_edits(base)
    run_command(["git", "add", "--all"], cwd=base, env=phaseup.env)
    run_command(["git", "commit", "--quiet", "-m", "Team edits"], cwd=base, env=phaseup.env)
    report.notes.append(
        f"The project carries {edited_lines} lines of team edits in 7 files (3 new modules; README.md, main.py, "
        ".env.example and Makefile edited), committed before each upgrade, as phaseup requires."
    )
    commands: dict[str, Command] = {
        "phaseup upgrade --to 2": lambda dest: [phaseup.phaseup, "upgrade", "--to", "2", "-C", dest],
        "copier update -d phase=2": lambda dest: [
            phaseup.copier, "update", "--trust", "--defaults", "--skip-answered", "--conflict", "inline", "--quiet",
            "--vcs-ref", phaseup.tag, "-d", "phase=2", dest,
        ],
    }  # fmt: skip
    copies: dict[str, list[Path]] = {label: [] for label in commands}

    def fresh_copy(label: str, repeat: int) -> Path:
        destination = work / f"{label.split()[0]}_{repeat}"
        shutil.copytree(base, destination, symlinks=True)
        copies[label].append(destination)
        return destination

    # Exit code 3 is phaseup's "applied, with conflicts to resolve": still a finished upgrade.
    _run_interleaved(report, commands, repeats, fresh_copy, env=phaseup.env, ok_codes=(0, 3))
    for case in report.cases:
        upgraded = copies[case.label][0]
        answers = (upgraded / ".copier-answers.yml").read_text(encoding="utf-8")
        conflicted = sorted(
            str(path.relative_to(upgraded))
            for path in upgraded.rglob("*")
            if path.is_file() and ".git" not in path.parts and CONFLICT_MARKER.search(path.read_text(errors="replace"))
        )
        case.facts["phase_after"] = 2 if "phase: 2" in answers else answers
        case.facts["files_with_conflicts"] = conflicted
        case.facts["team_module_kept"] = (upgraded / "src" / PROJECT_SLUG / "services" / "reports.py").is_file()
        if "phase: 2" not in answers:
            report.notes.append(f"{case.label} did not record phase 2 in .copier-answers.yml")
        if conflicted:
            report.notes.append(f"{case.label} left conflicts in: {', '.join(conflicted)}")
    differing = _different_files(copies["phaseup upgrade --to 2"][0], copies["copier update -d phase=2"][0])
    report.notes.append(
        "Both commands produced identical trees."
        if not differing
        else f"The two commands' trees differ in: {', '.join(differing[:10])}"
    )
    by_label = {case.label: case for case in report.cases}
    report.ratio(
        "phaseup upgrade / copier update",
        by_label["phaseup upgrade --to 2"],
        by_label["copier update -d phase=2"],
        "wall_s",
    )
    return report
