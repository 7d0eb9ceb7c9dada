"""Where the template comes from, and how it becomes a git repository Copier can update from offline.

Copier's `update` replays the project's recorded answers against the template at the recorded version, then merges the
result into the project with git. That needs the template as a git repository holding a tag for every version a
project may have been generated from. A source checkout of phaseup is such a repository already. An installed wheel
carries the files of its own template plus `releases/templates.bundle`, a git bundle with one tag per earlier release.
phaseup materialises both into a small git repository under the user's data directory (``$PHASEUP_HOME``, default
``$XDG_DATA_HOME/phaseup`` or ``~/.local/share/phaseup``): every release tag from the bundle, then the installed
template as tag ``v<version>``. Every release is one root commit made with a fixed identity and date, so a release has
the same commit hash on every machine. Generated projects record that repository as their ``_src_path`` (as ``~/...``
when it lies in the home directory, so the same answers file works for every teammate).

A tag is never moved: projects recorded it. When tag ``v<version>`` already holds a different template than the
installed files (a rebuilt wheel with an unchanged version), the installed template gets its own tag,
``v<version>+<first 12 hex digits of its git tree hash>``, a PEP 440 local version that sorts after ``v<version>``.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from generator.errors import PhaseupError
from generator.git import git

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLE_DIR = PACKAGE_DIR / "bundle"
TEMPLATE_ENTRIES = ("copier.yml", "features.yml", "includes", "template", "presets")
RELEASES_BUNDLE = Path("releases") / "templates.bundle"  # relative to the template root, in a checkout and a wheel

# A fixed identity and date, and no user or system git configuration, make a release's commit the same on every
# machine, whoever materialises or records it.
RELEASE_GIT_ENV = {
    "GIT_AUTHOR_NAME": "phaseup",
    "GIT_AUTHOR_EMAIL": "phaseup@localhost",
    "GIT_COMMITTER_NAME": "phaseup",
    "GIT_COMMITTER_EMAIL": "phaseup@localhost",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
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


def rendered_version(source: TemplateSource) -> Version:
    """The version of the template `source` renders: its tag's version (v0.2.0, or v0.2.0+<tree> for a rebuilt
    template with an unchanged version number), or the package's version for a source checkout (ref HEAD)."""
    try:
        return Version(source.ref.removeprefix("v"))
    except InvalidVersion:
        return Version(installed_version())


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
    repo = phaseup_home() / "template"
    return TemplateSource(path=repo, ref=materialize(BUNDLE_DIR, repo))


def materialize(bundle: Path, repo: Path) -> str:
    """Give `repo` every released template and the one in `bundle`; return the tag of the one in `bundle`.

    The release tags come from `bundle`'s releases bundle; tags `repo` already has are kept as they are. The bundled
    files get tag v<version>, or v<version>+<tree> when v<version> already holds something else.
    """
    repo.mkdir(parents=True, exist_ok=True)
    with _locked(repo.parent / "template.lock"):
        prepare_release_repo(repo)
        releases = bundle / RELEASES_BUNDLE
        if releases.is_file():
            fetch_releases(repo, releases)
        tree = tree_of_files(repo, bundle)
        tag = _tag_for_tree(repo, version_tag(), tree)
        if not _tag_commit(repo, tag):
            git(repo, "tag", tag, commit_release(repo, tag, tree), env=RELEASE_GIT_ENV)
        if _commit_of(repo, "HEAD") != _tag_commit(repo, tag):
            # The work tree shows the installed template; Copier itself always reads the tag.
            git(repo, "checkout", "--quiet", "--force", "-B", "main", tag, env=RELEASE_GIT_ENV)
    return tag


def fetch_releases(repo: Path, releases: Path) -> None:
    """Fetch the release tags of `releases` (a git bundle) that `repo` does not have yet; existing tags stay."""
    listed = git(repo, "bundle", "list-heads", str(releases), env=RELEASE_GIT_ENV)
    offered = [ref for _, ref in (line.split() for line in listed.splitlines()) if ref.startswith("refs/tags/")]
    present = set(git(repo, "tag", "--list", env=RELEASE_GIT_ENV).split())
    missing = [ref for ref in offered if ref.removeprefix("refs/tags/") not in present]
    if missing:
        refspecs = [f"{ref}:{ref}" for ref in missing]
        git(repo, "fetch", "--quiet", "--no-tags", str(releases), *refspecs, env=RELEASE_GIT_ENV)


def tree_of_files(repo: Path, source: Path) -> str:
    """Write the template entries found in `source` into `repo`'s object store; return their git tree hash.

    The files are stored byte for byte (no line-ending or filter attributes apply), so the hash identifies exactly the
    template that would be rendered.
    """
    entries = [name for name in TEMPLATE_ENTRIES if (source / name).exists()]
    if not entries:
        raise PhaseupError(f"no template found in {source}")
    with tempfile.TemporaryDirectory(prefix="phaseup-index-") as scratch:
        env = {**RELEASE_GIT_ENV, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(
            repo,
            f"--work-tree={source}",
            "add",
            "--force",
            "--",
            *entries,
            ":(exclude,glob)**/__pycache__/**",
            env=env,
        )
        return git(repo, "write-tree", env=env).strip()


def commit_release(repo: Path, tag: str, tree: str) -> str:
    """The release commit of `tree`: a root commit whose hash depends only on the tree and the tag's name."""
    return git(repo, "commit-tree", tree, "-m", f"phaseup template {tag}", env=RELEASE_GIT_ENV).strip()


def prepare_release_repo(repo: Path) -> None:
    """A git repository at `repo` that stores template files byte for byte."""
    if not (repo / ".git").is_dir():
        git(repo, "init", "--quiet", "--initial-branch=main", env=RELEASE_GIT_ENV)
    # Attributes the template itself ships (line endings, filters) must not change the bytes that get stored.
    attributes = repo / ".git" / "info" / "attributes"
    if not attributes.is_file():
        attributes.parent.mkdir(parents=True, exist_ok=True)
        attributes.write_text("* -text -filter -ident\n", encoding="utf-8")


def _tag_for_tree(repo: Path, tag: str, tree: str) -> str:
    """`tag` when it is free or already holds `tree`; otherwise a tag of its own for `tree`, never a stale one."""
    if not _tag_commit(repo, tag):
        return tag
    if git(repo, "rev-parse", f"refs/tags/{tag}^{{tree}}", env=RELEASE_GIT_ENV).strip() == tree:
        return tag
    return f"{tag}+{tree[:12]}"


def _tag_commit(repo: Path, tag: str) -> str:
    return _commit_of(repo, f"refs/tags/{tag}")


def _commit_of(repo: Path, ref: str) -> str:
    """The commit `ref` names, or "" when it names none."""
    return git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False, env=RELEASE_GIT_ENV).strip()


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Serialise materialisation between concurrent phaseup processes."""
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
