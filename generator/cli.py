"""The `phaseup` command line: a thin Typer layer over generator.<verb> functions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from generator import __version__
from generator.answers import parse_data
from generator.errors import PhaseupError
from generator.new import create_project
from generator.status import project_status
from generator.upgrade import ConflictsLeft, UpgradeReport, update_project, upgrade_project

app = typer.Typer(
    name="phaseup",
    help="Generate a web service with scaling practices in place, and upgrade it in place as it grows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Print a PhaseupError as one line on stderr and exit non-zero, without a traceback."""
    try:
        yield
    except PhaseupError as error:
        typer.echo(f"phaseup: error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None


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
    with _user_errors():
        project = create_project(destination, phase=phase, data=parse_data(data or []), defaults=defaults, git=git)
    answers = project.answers
    typer.echo(
        f"Created {answers['project_name']} ({answers['project_slug']}) at phase {answers['phase']} in {project.path}"
    )
    if git and not project.committed:
        typer.echo(
            "Note: no first git commit was made; commit the project before running an upgrade.",
            err=True,
        )
    typer.echo(f"Next:\n  cd {project.path}\n  make install\n  make test")


ProjectOption = Annotated[Path, typer.Option("--project", "-C", help="The project's directory.", file_okay=False)]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print the diff that would be applied; change nothing.")]


@app.command()
def upgrade(
    to: Annotated[str, typer.Option("--to", help="Target phase: 2 or 3 (a later phase than the project's).")],
    project: ProjectOption = Path("."),
    dry_run: DryRunOption = False,
) -> None:
    """Move the project to a later growth phase in place, keeping the team's edits."""
    with _user_errors():
        report = upgrade_project(project, to, dry_run=dry_run)
        _print_report(report, dry_run=dry_run)


@app.command()
def update(project: ProjectOption = Path("."), dry_run: DryRunOption = False) -> None:
    """Bring the project to the installed phaseup's template, keeping its phase and the team's edits."""
    with _user_errors():
        report = update_project(project, dry_run=dry_run)
        _print_report(report, dry_run=dry_run)


@app.command()
def status(project: ProjectOption = Path(".")) -> None:
    """Show the project's phase, template version and whether an update is available."""
    with _user_errors():
        state = project_status(project)
    typer.echo(f"project:   {state.name} ({state.root})")
    typer.echo(f"phase:     {state.phase}")
    typer.echo(f"template:  {state.template_ref} from {state.template_source}")
    if state.update_available:
        typer.echo(f"installed: phaseup {state.installed} (update available: run `phaseup update`)")
    else:
        typer.echo(f"installed: phaseup {state.installed} (up to date)")
    if state.next_phase is not None:
        typer.echo(
            f"next:      `phaseup upgrade --to {state.next_phase}` when the project outgrows phase {state.phase}"
        )


def _print_report(report: UpgradeReport, *, dry_run: bool) -> None:
    """The summary a team reads after an upgrade: what changed and what they have to do now."""
    if dry_run:
        typer.echo(report.diff, nl=False)
        typer.echo(f"(dry run: nothing was changed; phase {report.from_phase} -> {report.to_phase})", err=True)
        return
    typer.echo(f"Phase {report.from_phase} -> {report.to_phase}, template {report.from_version} -> {report.to_version}")
    for title, names in (
        ("added", report.added),
        ("changed", report.changed),
        ("deleted", report.deleted),
        ("CONFLICTED", report.conflicted),
        ("new environment variables to set", report.new_env_vars),
        ("new services to start", report.new_services),
        ("new migrations", report.new_migrations),
    ):
        if names:
            typer.echo(f"{title} ({len(names)}):")
            for name in names:
                typer.echo(f"  {name}")
    typer.echo("next:")
    if report.conflicted:
        typer.echo("  resolve the conflict markers (<<<<<<< / >>>>>>>) in the files listed above")
    if report.new_env_vars:
        typer.echo("  add the new variables to your .env and to your deployment (see .env.example)")
    typer.echo("  make install")
    if report.new_services:
        typer.echo("  docker compose up -d")
    if report.new_migrations:
        typer.echo("  make migrate")
    typer.echo("  make lint test")
    typer.echo("  git add --all && git commit   # or undo everything: git checkout . && git clean -fd")
    if report.conflicted:
        raise ConflictsLeft(f"{len(report.conflicted)} file(s) have conflicts to resolve")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="phaseup")
