"""The `phaseup` command line: a thin Typer layer over generator.<verb> functions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from generator import __version__
from generator.errors import PhaseupError
from generator.new import create_project

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
        from generator.answers import parse_data

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


def main() -> None:
    """Console-script entry point."""
    app(prog_name="phaseup")
