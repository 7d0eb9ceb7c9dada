"""The `phaseup` command line: a thin Typer layer over generator.<verb> functions.

The commands print what the plain functions return and decide the exit code: 0 done, 1 refused (one
`phaseup: error:` line) or a check failed, 2 a usage error, 3 upgraded with conflicts left to resolve, 130/143
interrupted before anything changed.
"""

from __future__ import annotations

import signal
import sys

# Ctrl-C while Python is still loading: nothing has been touched, so say so rather than print a traceback. The
# commands import Copier and the rest of phaseup themselves (inside their error handling), which keeps this short.
try:
    import json
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager, contextmanager
    from enum import StrEnum
    from pathlib import Path
    from typing import TYPE_CHECKING, Annotated

    import typer

    from generator import __version__
    from generator.errors import PhaseupError, describe_os_error
    from generator.interrupts import (
        HANDLED,
        Terminated,
        exit_code_for,
        held,
        hold,
        interrupt_behind,
        interruptible,
        signals_deferred,
    )
except KeyboardInterrupt:
    sys.stderr.write("phaseup: interrupted: nothing was changed\n")
    raise SystemExit(130) from None

if TYPE_CHECKING:
    from generator.check import CheckReport
    from generator.upgrade import UpgradePlan, UpgradeReport

EXIT_CONFLICTS = 3

app = typer.Typer(
    name="phaseup",
    help="Generate a web service with scaling practices in place, and upgrade it in place as it grows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    """One line on stderr (a multi-line message from git or Copier is joined), and the exit to raise."""
    one_line = "; ".join(line.strip() for line in message.splitlines() if line.strip())
    typer.echo(f"phaseup: {one_line}", err=True)
    return typer.Exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Every failure is one line on stderr and a non-zero exit, never a traceback."""
    try:
        yield
    except typer.Exit:
        raise
    except PhaseupError as error:
        raise _fail(f"error: {error}", error.exit_code) from None
    except OSError as error:  # the file system: a full disk, a read-only or missing directory
        raise _fail(f"error: {describe_os_error(error)}") from None
    except (KeyboardInterrupt, Terminated) as interrupt:
        raise _fail("interrupted", exit_code_for(interrupt)) from None
    except Exception as error:
        raise _fail(
            f"error: unexpected {type(error).__name__}: {error} (a bug in phaseup {__version__}; please report it "
            "with the command you ran)"
        ) from None


def _note_unbuilt_phase(phase: object, gets: int | None) -> None:
    """Say so when the chosen phase's own features are not built yet and the project gets an earlier phase's."""
    if gets is not None:
        typer.echo(
            f"note: phase {phase}'s features are not built in this release; the project records phase {phase} but "
            f"gets phase {gets}'s features",
            err=True,
        )


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"phaseup {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Generate a web service with scaling practices in place, and upgrade it in place as it grows."""


PhaseOption = Annotated[
    int | None,
    typer.Option(
        "--phase",
        "-p",
        help="Growth phase: 1 (0-1k users), 2 (1k-10k), 3 (10k-100k). Applies presets/phase<N>.yml.",
        show_default=False,
    ),
]
DataOption = Annotated[
    list[str] | None,
    typer.Option(
        "--data",
        "-d",
        metavar="KEY=VALUE",
        help="Answer a question; repeatable. Wins over the phase preset.",
    ),
]


@app.command()
def new(
    destination: Annotated[Path, typer.Argument(help="Directory to create (must not exist or be empty).")],
    phase: PhaseOption = None,
    data: DataOption = None,
    defaults: Annotated[
        bool,
        typer.Option("--defaults", help="Take the default for every question not given with --data."),
    ] = False,
    git: Annotated[
        bool,
        typer.Option("--git/--no-git", help="Initialise a git repository with a first commit."),
    ] = True,
) -> None:
    """Create a new project at the chosen growth phase."""
    with _user_errors(), interruptible():
        from generator.answers import parse_data
        from generator.contract import phase_still_being_built
        from generator.new import create_project
        from generator.template_source import template_root

        project = create_project(destination, phase=phase, data=parse_data(data or []), defaults=defaults, git=git)
        answers = project.answers
        _note_unbuilt_phase(answers["phase"], phase_still_being_built(template_root(), answers))
    typer.echo(
        f"Created {answers['project_name']} ({answers['project_slug']}) at phase {answers['phase']} in {project.path}"
    )
    if git and not project.committed:
        typer.echo(
            "Note: no first git commit was made; commit the project before running an upgrade.",
            err=True,
        )
    typer.echo(f"Next:\n  cd {project.path}\n  make install\n  make test")


ProjectOption = Annotated[
    Path, typer.Option("--project", "-C", help="The project's directory (or any directory inside it).", file_okay=False)
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Merge in a scratch copy and print the summary; change nothing.")
]


@app.command()
def upgrade(
    to: Annotated[str, typer.Option("--to", help="Target phase: 2 or 3 (a later phase than the project's).")],
    project: ProjectOption = Path("."),
    dry_run: DryRunOption = False,
) -> None:
    """Move the project to a later growth phase in place, keeping the team's edits."""

    def prepare() -> AbstractContextManager[UpgradePlan]:
        from generator.upgrade import prepare_upgrade

        return prepare_upgrade(project, to)

    _merge(prepare, dry_run=dry_run, command=f"phaseup upgrade --to {to}")


@app.command()
def update(project: ProjectOption = Path("."), dry_run: DryRunOption = False) -> None:
    """Bring the project to the installed phaseup's template, keeping its phase and the team's edits."""

    def prepare() -> AbstractContextManager[UpgradePlan]:
        from generator.upgrade import prepare_update

        return prepare_update(project)

    _merge(prepare, dry_run=dry_run, command="phaseup update")


def _merge(prepare: Callable[[], AbstractContextManager[UpgradePlan]], *, dry_run: bool, command: str) -> None:
    """Merge in a scratch clone, then write the result and print its summary with interrupts held back.

    An interrupt before the write changes nothing and says so; one after it waits until the project and the summary
    are complete, and the command ends as the finished work says (0, or 3 with conflicts).
    """
    report: UpgradeReport | None = None
    with _user_errors():
        try:
            with interruptible(), prepare() as plan:
                hold()
                if not dry_run:
                    plan.apply()
                report = plan.report
                _print_report(report, dry_run=dry_run, command=command)
        except (KeyboardInterrupt, Terminated) as interrupt:
            if report is None:
                raise _fail("interrupted: nothing was changed", exit_code_for(interrupt)) from None
        except Exception as error:
            behind = interrupt_behind(error)
            if behind is None or report is not None:
                raise
            raise _fail("interrupted: nothing was changed", exit_code_for(behind)) from None
    assert report is not None
    if report.conflicted:
        raise _fail(f"{len(report.conflicted)} file(s) have conflicts to resolve", EXIT_CONFLICTS)


@app.command()
def status(project: ProjectOption = Path(".")) -> None:
    """Show the project's phase, features, template version, and what the next phase adds."""
    with _user_errors():
        from generator.status import project_status

        state = project_status(project)
    typer.echo(f"project:   {state.name} ({state.root})")
    typer.echo(f"phase:     {state.phase}")
    typer.echo(f"features:  {', '.join(state.features) or 'none beyond phase 1'}")
    typer.echo(f"template:  {state.template_ref} from {state.template_source}")
    typer.echo(f"installed: phaseup {state.installed} ({state.template_note})")
    if state.next_phase is not None:
        typer.echo(
            f"next:      `phaseup upgrade --to {state.next_phase}` when the project outgrows phase {state.phase}"
        )
        for feature in state.next_phase_adds:
            typer.echo(f"           phase {state.next_phase} adds: {feature.name} — {feature.why}")
        if not state.next_phase_adds:
            typer.echo(f"           phase {state.next_phase} adds no features in this release (still being built)")


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


EXIT_USAGE = 2


@app.command()
def check(
    project: ProjectOption = Path("."),
    url: Annotated[
        str | None,
        typer.Option("--url", metavar="BASE_URL", help="Also read the running service's /readyz and /metrics."),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text (a table) or json (a stable object).")] = (
        OutputFormat.text
    ),
    metrics_token: Annotated[
        str | None,
        typer.Option("--metrics-token", envvar="METRICS_TOKEN", help="Bearer token for /metrics (METRICS_TOKEN)."),
    ] = None,
    window: Annotated[
        float, typer.Option("--window", min=0, help="Seconds to watch the service's metrics with --url.")
    ] = 30.0,
    drift: Annotated[
        bool, typer.Option("--drift/--no-drift", help="Compare the files with the template's render.")
    ] = True,
) -> None:
    """Check that the project still follows its phase's practices; with --url, whether the next phase is due."""
    with _user_errors():
        from generator.check import check_project

        try:
            report = check_project(project, url=url, metrics_token=metrics_token, window=window, drift=drift)
        except PhaseupError as error:  # not a project, an invalid [tool.phaseup.check], a URL that does not answer
            raise _fail(f"error: {error}", EXIT_USAGE) from None
    if output is OutputFormat.json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        _print_check(report)
    if report.failed:
        raise typer.Exit(1)


def _print_check(report: CheckReport) -> None:
    """A table for a person: one line per check, then the signals and the recommendation."""
    from generator.check_live import format_value

    typer.echo(f"{report.project}: phase {report.phase} ({', '.join(report.features) or 'phase-1 features only'})")
    width = max(len(finding.id) for finding in report.checks)
    for finding in report.checks:
        where = f" [{finding.location}]" if finding.location and finding.status != "pass" else ""
        typer.echo(f"  {finding.status.upper():<4}  {finding.id:<{width}}  {finding.message}{where}")
    if report.live is not None:
        live = report.live
        typer.echo(f"signals of {live.url} over {live.window_seconds:g} s:")
        labels = [signal.label for signal in live.signals] or [""]
        label_width = max(len(label) for label in labels)
        for signal in live.signals:
            threshold = "" if signal.threshold is None else format_value(signal.threshold, signal.unit)
            flag = "  <-- " + ("below" if signal.id == "cache_hit_ratio" else "over") if signal.breached else ""
            typer.echo(
                f"  {signal.label:<{label_width}}  {format_value(signal.value, signal.unit):>12}  "
                f"(threshold {threshold}){flag}"
            )
        typer.echo(f"recommendation: {live.recommendation.message}")
    counts = {status: sum(f.status == status for f in report.checks) for status in ("pass", "warn", "fail", "info")}
    typer.echo(", ".join(f"{count} {status}" for status, count in counts.items()))


def _print_report(report: UpgradeReport, *, dry_run: bool, command: str) -> None:
    """The summary a team reads after an upgrade: what changed and what they have to do now."""
    if dry_run:
        typer.echo(f"DRY RUN: nothing was changed. `{command}` would do this:")
    if not report.has_changes:
        typer.echo(f"Nothing to update: the project already matches phaseup {report.to_version}'s template.")
        return
    typer.echo(f"Phase {report.from_phase} -> {report.to_phase}, template {report.from_version} -> {report.to_version}")
    _note_unbuilt_phase(report.to_phase, report.features_from_phase)
    features = report.features
    for feature in features.added:
        typer.echo(f"phase {report.to_phase} adds: {feature.name} — {feature.why}")
    sections = (
        ("added", report.added),
        ("changed", report.changed),
        ("deleted", report.deleted),
        ("CONFLICTED", report.conflicted),
        ("settings you must set (no default)", features.required_settings),
        ("optional settings (have defaults)", features.optional_settings),
        ("new services", features.services),
        ("new migrations", features.migrations),
    )
    for title, names in sections:
        if names:
            typer.echo(f"{title} ({len(names)}):")
            for name in names:
                typer.echo(f"  {name}")
    if report.migration_heads_joined_by:
        typer.echo(f"migration heads joined by {report.migration_heads_joined_by} (so Alembic has one head again)")
    if report.unapplied:
        typer.echo(
            f"template changes NOT applied, because your team deleted or renamed the file ({len(report.unapplied)}):"
        )
        for change in report.unapplied:
            where = f"renamed to {change.renamed_to}" if change.renamed_to else "deleted"
            what = "deletes it" if change.template_deletes_it else "changes it"
            typer.echo(f"  {change.path} ({where}): the template {what}; its diff: {change.saved_as}")
    typer.echo("next:")
    if dry_run:
        typer.echo(f"  {command}   # to apply it")
    if report.conflicted:
        typer.echo("  resolve the conflict markers (<<<<<<< / >>>>>>>) in the files listed above")
    if report.unapplied:
        typer.echo(f"  apply the template changes saved under {report.unapplied[0].saved_as.split('/')[0]}/ by hand")
    if features.required_settings:
        typer.echo(f"  set {', '.join(features.required_settings)} in your .env and your deployment (see .env.example)")
    typer.echo("  make install")
    if features.services:
        typer.echo("  docker compose up -d")
    if features.migrations or report.migration_heads_joined_by:
        typer.echo("  make migrate")
    for extra in features.commands:
        typer.echo(f"  {extra}")
    typer.echo("  make lint test")
    if not dry_run:
        typer.echo("  git add --all && git commit   # or undo everything: git checkout . && git clean -fd")


def main() -> None:
    """Console-script entry point. Ctrl-C and SIGTERM are recorded from here on and acted on where it is safe (see
    generator.interrupts); one that arrived where nothing could be stopped ends the command once it is done."""
    with signals_deferred() as received:
        try:
            app(prog_name="phaseup")
            code: int | str | None = 0
        except SystemExit as finished:
            code = finished.code
    for number in HANDLED:  # the command is over: a late signal must not turn its exit into a crash
        signal.signal(number, signal.SIG_IGN)
    if received and not held():
        sys.stderr.write("phaseup: interrupted\n")
        code = 128 + received[0]
    sys.exit(code)
