"""Where the template comes from, and how it becomes a git repository Copier can update from offline.

Copier's `update` replays the project's recorded answers against the template at the recorded version, then merges the
result into the project with git. That needs the template as a git repository holding a tag for every version a
project may have been generated from. A source checkout of phaseup is such a repository already. An installed wheel
only carries the files, so phaseup materialises them into a small git repository under the user's data directory
(``$PHASEUP_HOME``, default ``$XDG_DATA_HOME/phaseup`` or ``~/.local/share/phaseup``), one commit and tag ``v<version>``
per installed release. Generated projects record that repository as their ``_src_path`` (as ``~/...`` when it lies
in the home directory, so the same answers file works for every teammate); installing a newer phaseup adds a newer
tag next to the old ones, which is what an offline update needs.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generator.errors import PhaseupError

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLE_DIR = PACKAGE_DIR / "bundle"
TEMPLATE_ENTRIES = ("copier.yml", "includes", "template", "presets")

# A fixed identity and date make the materialised commits independent of who installed phaseup and when.
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "phaseup",
    "GIT_AUTHOR_EMAIL": "phaseup@localhost",
    "GIT_COMMITTER_NAME": "phaseup",
    "GIT_COMMITTER_EMAIL": "phaseup@localhost",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
}


@dataclass(frozen=True)
class TemplateSource:
    """A template Copier can read: a git repository path and the ref to render."""

    path: Path
    ref: str

    @property
    def url(self) -> str:
        """The location to record in a project: home-relative when possible, so teammates' machines resolve it too.

        Copier expands a leading `~` when it reads `_src_path`, so `~/.local/share/phaseup/template` names each
        user's own materialised template.
        """
        try:
            return f"~/{self.path.relative_to(Path.home())}"
        except ValueError:
            return str(self.path)


def template_root() -> Path:
    """The directory holding copier.yml and the template: the wheel's bundle, or the source checkout."""
    if (BUNDLE_DIR / "copier.yml").is_file():
        return BUNDLE_DIR
    checkout = PACKAGE_DIR.parent
    if (checkout / "copier.yml").is_file():
        return checkout
    raise PhaseupError(f"phaseup is installed without its template (looked in {BUNDLE_DIR}); reinstall it")


def version_tag(version: str | None = None) -> str:
    return f"v{version or installed_version()}"


def installed_version() -> str:
    """The version of the template this phaseup carries (looked up at call time so tests can stage releases)."""
    import generator

    return generator.__version__


def phaseup_home() -> Path:
    if home := os.environ.get("PHASEUP_HOME"):
        return Path(home).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "phaseup"


def resolve_template() -> TemplateSource:
    """The template to render: the source checkout as it is, or the wheel's bundle materialised and tagged."""
    root = template_root()
    if root != BUNDLE_DIR:
        # A development checkout is a git repository already; Copier renders it (dirty changes included).
        return TemplateSource(path=root, ref="HEAD")
    return TemplateSource(path=materialize(BUNDLE_DIR, phaseup_home() / "template"), ref=version_tag())


def materialize(bundle: Path, repo: Path) -> Path:
    """Commit the bundled template into `repo` under tag v<version>, once per version; return `repo`."""
    repo.mkdir(parents=True, exist_ok=True)
    with _locked(repo.parent / "template.lock"):
        if not (repo / ".git").is_dir():
            _git(repo, "init", "--quiet", "--initial-branch=main")
        tag = version_tag()
        if _git(repo, "tag", "--list", tag).strip():
            return repo
        for entry in repo.iterdir():
            if entry.name != ".git":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        for name in TEMPLATE_ENTRIES:
            source = bundle / name
            if source.is_dir():
                shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.is_file():
                shutil.copy2(source, repo / name)
        _git(repo, "add", "--all")
        _git(repo, "commit", "--quiet", "--allow-empty", "-m", f"phaseup template {tag}")
        _git(repo, "tag", tag)
    return repo


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Serialise materialisation between concurrent phaseup processes."""
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        **_GIT_IDENTITY,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    try:
        result = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True)
    except FileNotFoundError as error:
        raise PhaseupError("git is not installed; phaseup needs git") from error
    except subprocess.CalledProcessError as error:
        raise PhaseupError(f"git {' '.join(args)} failed in {repo}: {error.stderr.strip()}") from error
    return result.stdout
