"""The wheel carries the template: installed in a fresh virtualenv, phaseup generates a project without the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from generator import __version__
from generator.git import git
from generator.template_source import materialize
from tests.conftest import REPO_ROOT, run

UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert UV, "uv is a test dependency: pip install -e '.[test]'"
    dist = tmp_path_factory.mktemp("dist")
    run([UV, "build", "--wheel", "--out-dir", str(dist), str(REPO_ROOT)], cwd=REPO_ROOT)
    (built,) = dist.glob("phaseup-*.whl")
    return built


@pytest.fixture(scope="module")
def installed_phaseup(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh virtualenv, outside the repository, with only the built wheel installed; returns its bin dir."""
    assert UV
    venv = tmp_path_factory.mktemp("wheel-venv") / "venv"
    run([UV, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=venv.parent)
    run([UV, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)], cwd=venv.parent)
    return venv / "bin"


def isolated_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PHASEUP_HOME"] = str(home)
    env["GIT_ALLOW_PROTOCOL"] = "file"  # git may only read local repositories: any network fetch would fail
    return env


def test_wheel_carries_the_template_the_feature_contract_and_every_release(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        bundled_releases = archive.read("generator/bundle/releases/templates.bundle")
    for required in (
        "generator/bundle/copier.yml",
        "generator/bundle/features.yml",
        "generator/bundle/includes/features.yml",
        "generator/bundle/includes/reserved-names.yml",
        "generator/bundle/presets/phase2.yml",
        "generator/bundle/template/{{ _copier_conf.answers_file }}.jinja",
    ):
        assert required in names, required
    assert bundled_releases == (REPO_ROOT / "releases" / "templates.bundle").read_bytes()


def test_wheel_generates_a_project_offline_from_its_own_bundle(installed_phaseup: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    home = tmp_path / "home"
    env = isolated_env(home)

    location = run(
        [str(installed_phaseup / "python"), "-c", "import generator; print(generator.__file__)"], cwd=workdir, env=env
    )
    assert not Path(location.stdout.strip()).is_relative_to(REPO_ROOT)

    run(
        [str(installed_phaseup / "phaseup"), "new", "shop", "--defaults", "-d", "project_name=Wheel Shop"],
        cwd=workdir,
        env=env,
    )

    project = workdir / "shop"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["_src_path"] == str(home / "template")
    assert answers["_commit"] == f"v{__version__}"
    assert (project / "src" / "wheel_shop").is_dir()

    # The recorded template reference is a tagged git repository Copier can update from, with no network: it holds
    # every earlier release from the wheel's releases bundle, and this one.
    tags = run(["git", "tag", "--list"], cwd=home / "template", env=env)
    assert tags.stdout.split() == ["v0.1.0", "v0.2.0", f"v{__version__}"]
    # The installed files make the very commit the checkout's files make: a release is one commit everywhere.
    from_checkout = tmp_path / "checkout-home" / "template"
    assert materialize(REPO_ROOT, from_checkout) == f"v{__version__}"
    assert git(home / "template", "rev-parse", f"v{__version__}") == git(from_checkout, "rev-parse", f"v{__version__}")
    update = subprocess.run(
        [str(installed_phaseup / "copier"), "update", "--defaults", "--trust", "--skip-answered"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert update.returncode == 0, update.stderr
    status = run(["git", "status", "--porcelain"], cwd=project, env=env)
    assert status.stdout == ""

    # The team edits the project, then upgrades it with the installed CLI alone.
    module = project / "src" / "wheel_shop" / "team_module.py"
    module.write_text('"""Written by the team."""\n\nANSWER = 42\n', encoding="utf-8")
    run(["git", "add", "--all"], cwd=project, env=env)
    run(["git", "commit", "--quiet", "-m", "team edit"], cwd=project, env=env)
    upgrade = subprocess.run(
        [str(installed_phaseup / "phaseup"), "upgrade", "--to", "2"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    assert "Phase 1 -> 2" in upgrade.stdout
    assert yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))["phase"] == 2
    assert module.read_text(encoding="utf-8").endswith("ANSWER = 42\n")


def test_wheel_updates_a_project_of_release_0_1_0_offline(installed_phaseup: Path, tmp_path: Path) -> None:
    """A machine that never had phaseup 0.1.0 updates a project generated by it, with the current wheel alone."""
    home = tmp_path / "home"
    env = isolated_env(home)
    run([str(installed_phaseup / "phaseup"), "new", "current", "--defaults", "--no-git"], cwd=tmp_path, env=env)
    project = tmp_path / "old-shop"
    copier_copy = [str(installed_phaseup / "copier"), "copy", "--trust", "--defaults", "--vcs-ref", "v0.1.0"]
    run([*copier_copy, "--data", "project_name=Old Shop", str(home / "template"), str(project)], cwd=tmp_path, env=env)
    run(["git", "init", "--quiet"], cwd=project, env=env)
    run(["git", "add", "--all"], cwd=project, env=env)
    run(["git", "commit", "--quiet", "-m", "generated by phaseup 0.1.0"], cwd=project, env=env)

    update = run([str(installed_phaseup / "phaseup"), "update"], cwd=project, env=env)

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert (answers["_commit"], answers["phase"]) == (f"v{__version__}", 1)
    assert "<<<<<<< " not in run(["git", "diff"], cwd=project, env=env).stdout, update.stdout


def test_materialisation_is_idempotent(installed_phaseup: Path, tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home")
    for name in ("one", "two"):
        run([str(installed_phaseup / "phaseup"), "new", name, "--defaults", "--no-git"], cwd=tmp_path, env=env)
    log = run(["git", "log", "--oneline"], cwd=tmp_path / "home" / "template", env=env)
    assert len(log.stdout.splitlines()) == 1
