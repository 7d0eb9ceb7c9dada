"""Record a release's template in `releases/templates.bundle`, the git bundle every later wheel carries.

Run from a phaseup checkout when making a release, after bumping `generator/__init__.py` and committing:

    python -m generator.releases record            # the version of HEAD, from HEAD
    python -m generator.releases record v0.1.0 --from 7c7e9c6
    python -m generator.releases list

The release becomes one root commit (template files of that commit only, fixed identity and date) tagged
v<version>: the very commit an installed wheel of that release materialises, so every machine agrees on it. A
release is recorded once; the bundle is rewritten with every earlier tag plus the new one.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from packaging.version import InvalidVersion, Version

from generator.errors import PhaseupError
from generator.git import git
from generator.template_source import (
    RELEASE_GIT_ENV,
    RELEASES_BUNDLE,
    TEMPLATE_ENTRIES,
    commit_release,
    fetch_releases,
    prepare_release_repo,
    tree_of_files,
)

VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', flags=re.MULTILINE)


def recorded_releases(checkout: Path) -> dict[str, str]:
    """The bundle's release tags and their commits, oldest version first."""
    bundle = checkout / RELEASES_BUNDLE
    if not bundle.is_file():
        return {}
    heads = (line.split() for line in git(checkout, "bundle", "list-heads", str(bundle)).splitlines())
    tags = {ref.removeprefix("refs/tags/"): commit for commit, ref in heads if ref.startswith("refs/tags/")}
    return dict(sorted(tags.items(), key=lambda item: Version(item[0])))


def record_release(checkout: Path, revision: str = "HEAD", version: str | None = None) -> tuple[str, str]:
    """Add the template of `revision` to the checkout's releases bundle as v<version>; return (tag, commit).

    The version is the one `generator/__init__.py` declares at `revision`; `version`, when given, must match it.
    """
    commit = git(checkout, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", check=False).strip()
    if not commit:
        raise PhaseupError(f"{revision} is not a commit of {checkout}")
    declared = _declared_version(checkout, commit)
    if version is not None and Version(version.removeprefix("v")) != Version(declared):
        raise PhaseupError(f"{revision} declares version {declared} in generator/__init__.py, not {version}")
    tag = f"v{declared}"
    if tag in recorded_releases(checkout):
        raise PhaseupError(f"{tag} is already recorded in {RELEASES_BUNDLE}; a release is recorded once")
    bundle = checkout / RELEASES_BUNDLE
    with tempfile.TemporaryDirectory(prefix="phaseup-release-") as scratch:
        files, repo = Path(scratch) / "files", Path(scratch) / "releases"
        _export_template(checkout, commit, files)
        repo.mkdir()
        prepare_release_repo(repo)
        if bundle.is_file():
            fetch_releases(repo, bundle)
        release = commit_release(repo, tag, tree_of_files(repo, files))
        git(repo, "tag", tag, release)
        written = Path(scratch) / "templates.bundle"
        git(repo, "bundle", "create", "--quiet", str(written), "--tags")
        git(repo, "bundle", "verify", "--quiet", str(written))
        bundle.parent.mkdir(parents=True, exist_ok=True)
        os.replace(written, bundle)
    return tag, release


def _declared_version(checkout: Path, commit: str) -> str:
    source = git(checkout, "show", f"{commit}:generator/__init__.py")
    match = VERSION_LINE.search(source)
    if match is None:
        raise PhaseupError(f"generator/__init__.py at {commit[:12]} declares no __version__")
    try:
        version = Version(match.group(1))
    except InvalidVersion as error:
        raise PhaseupError(f"generator/__init__.py at {commit[:12]}: {error}") from error
    if version.local is not None:
        raise PhaseupError(f"release versions have no local part (+...): {version}")
    return str(version)


def _export_template(checkout: Path, commit: str, destination: Path) -> None:
    """Write the template entries of `commit` into `destination`, as a wheel built from that commit would carry."""
    present = git(checkout, "ls-tree", "--name-only", commit, "--", *TEMPLATE_ENTRIES).split()
    destination.mkdir()
    with tempfile.TemporaryDirectory(prefix="phaseup-index-") as scratch:
        env = {**RELEASE_GIT_ENV, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(checkout, f"--work-tree={destination}", "checkout", commit, "--", *present, env=env)


app = typer.Typer(add_completion=False, help="Record phaseup releases in releases/templates.bundle.")


@app.command()
def record(
    version: Annotated[str | None, typer.Argument(help="v<version>; must match generator/__init__.py")] = None,
    revision: Annotated[str, typer.Option("--from", help="the commit whose template is released")] = "HEAD",
) -> None:
    """Add a release's template to the bundle."""
    tag, commit = record_release(_checkout(), revision, version)
    typer.echo(f"recorded {tag} as {commit} in {RELEASES_BUNDLE}; commit that file")


@app.command(name="list")
def list_releases() -> None:
    """Print the recorded releases and their commits."""
    for tag, commit in recorded_releases(_checkout()).items():
        typer.echo(f"{tag} {commit}")


def _checkout() -> Path:
    """The top of the phaseup checkout the command runs in."""
    return Path(git(Path.cwd(), "rev-parse", "--show-toplevel").strip())


def main() -> None:
    try:
        app()
    except PhaseupError as error:
        typer.echo(f"phaseup: error: {error}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
