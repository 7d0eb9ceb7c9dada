"""The tools the benchmarks drive: phaseup installed from a wheel of this checkout, uv, git, psql."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import BenchmarkError, run_command

REPO_ROOT = Path(__file__).resolve().parent.parent

# Commits made by phaseup and by the benchmarks get this identity, whatever the machine's git config says.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "phaseup benchmarks",
    "GIT_AUTHOR_EMAIL": "benchmarks@example.com",
    "GIT_COMMITTER_NAME": "phaseup benchmarks",
    "GIT_COMMITTER_EMAIL": "benchmarks@example.com",
}


def require_tool(name: str, how_to_install: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BenchmarkError(f"`{name}` is not installed; {how_to_install}")
    return path


def uv_path() -> str:
    beside_python = shutil.which("uv", path=str(Path(sys.executable).parent))
    return beside_python or require_tool("uv", "install it with `pip install uv` (https://docs.astral.sh/uv/)")


@dataclass(frozen=True)
class Phaseup:
    """phaseup as users get it: a wheel in its own virtualenv, with its template materialised under `home`.

    A wheel rather than an editable install: that is what `pip install phaseup` gives, and it is the setup in which
    `phaseup upgrade` finds the tagged template version a project was generated from.
    """

    bin_dir: Path
    home: Path
    version: str

    @property
    def phaseup(self) -> Path:
        return self.bin_dir / "phaseup"

    @property
    def copier(self) -> Path:
        return self.bin_dir / "copier"  # the Copier phaseup itself runs on (a dependency of the wheel)

    @property
    def template_repo(self) -> Path:
        return self.home / "template"

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def env(self) -> dict[str, str]:
        """The environment of every command run on phaseup's behalf; the generated projects' `make` targets call uv,
        so the uv the benchmarks use comes first on PATH (it may live only in the test virtualenv)."""
        inherited = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON"))}
        path = os.pathsep.join([str(Path(uv_path()).parent), inherited.get("PATH", os.defpath)])
        return {
            **inherited,
            **GIT_IDENTITY,
            "PATH": path,
            "PHASEUP_HOME": str(self.home),
            "UV_PYTHON_DOWNLOADS": "never",
        }


def source_tree(scratch: Path, ref: str | None) -> Path:
    """The checkout as it is (ref None, uncommitted changes included), or a clean export of a git ref."""
    if ref is None:
        return REPO_ROOT
    exported = scratch / "source"
    exported.mkdir()
    archive = scratch / "source.tar"
    run_command(["git", "archive", "--format=tar", f"--output={archive}", ref], cwd=REPO_ROOT)
    run_command(["tar", "-xf", archive, "-C", exported])
    return exported


def describe_source(ref: str | None) -> str:
    commit = run_command(["git", "rev-parse", "--short", ref or "HEAD"], cwd=REPO_ROOT).stdout.strip()
    if ref is not None:
        return f"commit {commit}"
    dirty = run_command(["git", "status", "--porcelain"], cwd=REPO_ROOT).stdout.strip()
    return f"working tree at {commit}" + (" with uncommitted changes" if dirty else "")


def install_phaseup(scratch: Path, ref: str | None = None) -> Phaseup:
    """Build a wheel of this checkout (or of a git ref) and install it in a fresh virtualenv."""
    require_tool("git", "install git (apt-get install git)")
    uv = uv_path()
    dist = scratch / "dist"
    source = source_tree(scratch, ref)
    run_command([uv, "build", "--quiet", "--wheel", "--out-dir", dist, source], cwd=source)
    (wheel,) = dist.glob("phaseup-*.whl")
    venv = scratch / "phaseup-venv"
    run_command([uv, "venv", "--quiet", "--python", sys.executable, venv])
    run_command([uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheel])
    version = run_command([venv / "bin" / "phaseup", "--version"]).stdout.split()[-1]
    return Phaseup(bin_dir=venv / "bin", home=scratch / "phaseup-home", version=version)
