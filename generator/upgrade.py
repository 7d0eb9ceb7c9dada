"""`phaseup upgrade` and `phaseup update`: re-render a project through Copier's three-way update, keeping edits.

Copier renders the template at the project's recorded version with its recorded answers, renders it again at the
new version with the new answers, and applies the difference to the project through git, so a team's edits survive
and a line both sides changed becomes an inline conflict.

phaseup runs all of that in a scratch clone of the project, never in the live tree: the clone has LF line endings
whatever the user's checkout uses, so the merge compares real changes only; an interrupt or a failure there leaves the
project exactly as it was. Only when the merge is complete is the result written back, file by file and atomically,
in the line endings each file had (see generator.writeback). A dry run is the same pipeline without the write-back.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from copier._main import Worker  # Copier's update worker; phaseup keeps its reference renders (see below)

from generator.answers import load_preset, parse_phase
from generator.contract import FeatureChange, feature_change, phase_still_being_built
from generator.copier_run import run_copier
from generator.errors import PhaseupError
from generator.git import git
from generator.interrupts import signals_deferred
from generator.migration_fork import VERSIONS_DIR, join_alembic_heads
from generator.project import Project, answers_file_name, open_project, require_clean_git_root
from generator.template_source import TemplateSource, rendered_version, resolve_template, template_root
from generator.writeback import FileWrite, apply_writes, prepare_writes

# Copier's own labels for an inline conflict (`git merge-file -L "before updating" ... -L "after updating"`).
CONFLICT_LINE = re.compile(rb"^(<<<<<<< before updating|>>>>>>> after updating)\r?$", flags=re.MULTILINE)
UNAPPLIED_DIR = "phaseup-unapplied-changes"  # untracked folder for template changes that found no file to land in

# Commits phaseup makes in its scratch clone, never in the user's repository.
_SCRATCH_GIT_ENV = {
    "GIT_AUTHOR_NAME": "phaseup",
    "GIT_AUTHOR_EMAIL": "phaseup@localhost",
    "GIT_COMMITTER_NAME": "phaseup",
    "GIT_COMMITTER_EMAIL": "phaseup@localhost",
}


@dataclass(frozen=True)
class UnappliedChange:
    """A template change to a file the team deleted or renamed, which the merge therefore could not apply."""

    path: str  # the file as the template names it
    renamed_to: str | None  # where the team moved it, if git's rename detection finds it; None when deleted
    template_deletes_it: bool  # the template's change is a deletion (else a modification)
    diff: str  # the template's own diff for the file

    @property
    def saved_as(self) -> str:
        return f"{UNAPPLIED_DIR}/{self.path}.diff"


@dataclass
class UpgradeReport:
    from_phase: int
    to_phase: int
    from_version: str
    to_version: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)
    features: FeatureChange = field(default_factory=FeatureChange)
    unapplied: list[UnappliedChange] = field(default_factory=list)
    # The merge revision written when the upgrade left the project's Alembic graph with two heads (also in `added`).
    migration_heads_joined_by: str | None = None
    # The earlier phase whose features the project gets when the target phase adds none yet (still being built).
    features_from_phase: int | None = None

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.changed or self.deleted or self.conflicted or self.unapplied)


@dataclass
class UpgradePlan:
    """A merged result waiting in the scratch clone; `apply()` writes it into the project."""

    project: Project
    report: UpgradeReport
    writes: list[FileWrite]

    def apply(self) -> None:
        """The one step that touches the project: SIGINT and SIGTERM wait until every file is written."""
        with signals_deferred():
            apply_writes(self.project.root, self.writes)


def upgrade_project(path: Path, to_phase: object, *, dry_run: bool = False) -> UpgradeReport:
    """Move a project to a later phase (the phase preset on top of its recorded answers); return what changed."""
    with prepare_upgrade(path, to_phase) as plan:
        if not dry_run:
            plan.apply()
        return plan.report


def update_project(path: Path, *, dry_run: bool = False) -> UpgradeReport:
    """Bring a project to the installed phaseup's template, keeping its phase and answers; return what changed."""
    with prepare_update(path) as plan:
        if not dry_run:
            plan.apply()
        return plan.report


@contextmanager
def prepare_upgrade(path: Path, to_phase: object) -> Iterator[UpgradePlan]:
    """Merge the upgrade to `to_phase` in a scratch clone; the project is untouched until the plan is applied."""
    project = open_project(path)
    target = parse_phase(to_phase)
    if target < project.phase:
        raise PhaseupError(f"the project is at phase {project.phase}; downgrading to phase {target} is not supported")
    if target == project.phase:
        raise PhaseupError(
            f"the project is already at phase {target}; `phaseup update` brings it to the installed template"
        )
    with _merged_in_scratch(project, load_preset(template_root(), target)) as plan:
        yield plan


@contextmanager
def prepare_update(path: Path) -> Iterator[UpgradePlan]:
    """Merge the installed template into the project in a scratch clone (an empty plan when already on it)."""
    project = open_project(path)
    if project.template_version is not None and project.template_version == rendered_version(resolve_template()):
        report = UpgradeReport(project.phase, project.phase, project.template_ref, project.template_ref)
        yield UpgradePlan(project=project, report=report, writes=[])
        return
    with _merged_in_scratch(project, {}) as plan:
        yield plan


@contextmanager
def _merged_in_scratch(project: Project, data: dict[str, Any]) -> Iterator[UpgradePlan]:
    require_clean_git_root(project.root)
    _refuse_newer_template(project)
    source = _template_with_recorded_version(project)
    scratch = Path(tempfile.mkdtemp(prefix="phaseup-upgrade-"))
    try:
        clone = _clone_with_lf_line_endings(project.root, scratch / project.root.name)
        old_render, new_render = _copier_update(clone, data, source)
        # A merge revision is an untracked file of the clone, so it is counted among the added files below.
        migration_heads_joined_by = _join_migration_heads(clone)
        report, upserts, deletions = _report(project, clone, old_render, new_render)
        report.migration_heads_joined_by = migration_heads_joined_by
        writes = prepare_writes(clone, project.root, upserts, deletions)
        writes += [FileWrite(change.saved_as, content=change.diff.encode()) for change in report.unapplied]
        yield UpgradePlan(project=project, report=report, writes=writes)
    finally:
        with signals_deferred():  # an interrupt during clean-up must not pass for one during the merge
            shutil.rmtree(scratch, ignore_errors=True)


def _join_migration_heads(clone: Path) -> str | None:
    """Give the project one Alembic head again when the phase's new revision and the team's both follow one parent.

    A revision file left with conflict markers cannot be read; it is reported as a conflict, and once the team has
    resolved it the project's own migration test names the command that joins the heads.
    """
    versions = clone / VERSIONS_DIR
    if versions.is_dir() and any(CONFLICT_LINE.search(path.read_bytes()) for path in versions.glob("*.py")):
        return None
    return join_alembic_heads(clone)


def _refuse_newer_template(project: Project) -> None:
    installed = rendered_version(resolve_template())
    if project.template_version is not None and project.template_version > installed:
        raise PhaseupError(
            f"the project was last rendered by phaseup {project.template_version}, newer than the installed "
            f"{installed}: upgrade phaseup first (pip install -U phaseup)"
        )


def _template_with_recorded_version(project: Project) -> TemplateSource:
    source = resolve_template()
    recorded_source = str(project.answers.get("_src_path", ""))
    if recorded_source and Path(recorded_source).expanduser().resolve() != source.path.resolve():
        raise PhaseupError(
            f"the project records its template at {recorded_source}, but this phaseup's template is at "
            f"{source.path}; set PHASEUP_HOME so both agree (see README: 'Where the template lives')"
        )
    if not git(source.path, "rev-parse", "--verify", "--quiet", f"{project.template_ref}^{{commit}}", check=False):
        # Copier re-renders the recorded version to find the team's edits; without it there is no three-way merge.
        raise PhaseupError(
            f"the template version the project records ({project.template_ref}) is not in {source.path}: "
            "install the phaseup release that generated it once (it adds its tag there), then run this again"
        )
    return source


def _clone_with_lf_line_endings(live: Path, clone: Path) -> Path:
    """Clone the project's HEAD with every text file in LF, whatever the user's checkout or the files use.

    The clone ignores the user's line-ending settings; a text file committed with CRLF is renormalised in one scratch
    commit, so the three-way merge compares real changes instead of every line of such a file.
    """
    git(
        live.parent,
        "clone",
        "--quiet",
        "--no-checkout",
        "--config=core.autocrlf=false",
        "--config=core.eol=lf",
        "--config=core.safecrlf=false",
        str(live),
        str(clone),
    )
    (clone / ".git" / "info").mkdir(exist_ok=True)
    (clone / ".git" / "info" / "attributes").write_text("* text=auto eol=lf\n", encoding="utf-8")
    git(clone, "reset", "--quiet", "--hard")
    git(clone, "add", "--renormalize", ".")
    renormalised = [name for name in git(clone, "diff", "--cached", "--name-only", "-z").split("\0") if name]
    if renormalised:
        git(
            clone,
            "-c",
            "commit.gpgsign=false",
            "-c",
            f"core.hooksPath={os.devnull}",
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            "phaseup: LF line endings",
            env=_SCRATCH_GIT_ENV,
        )
        for name in renormalised:
            (clone / name).unlink()
        git(clone, "checkout", "--quiet", "--", *renormalised)
    return clone


# The renders Copier makes inside its update (the template at the recorded version, then at the new one), stored as
# git trees in the scratch clone so phaseup can compare them with what the team has.
_recorded_renders: ContextVar[tuple[Path, list[str]]] = ContextVar("_recorded_renders")


class _RenderRecordingWorker(Worker):
    """Copier's update worker, keeping its two reference renders instead of throwing them away.

    Copier renders the old template and the new one into temporary directories to compute the update (and renders the
    new one into the project itself in between); both reference renders are needed to list the template changes that
    could not land because the team deleted or renamed the file.
    """

    def run_copy(self) -> None:
        super().run_copy()
        clone, renders = _recorded_renders.get()
        if Path(self.dst_path).resolve() != clone.resolve():
            renders.append(_tree_of(clone, Path(self.dst_path)))


def _tree_of(clone: Path, directory: Path) -> str:
    """Store every file of `directory` in the clone's object database; return the tree's hash."""
    with tempfile.TemporaryDirectory(prefix="phaseup-index-") as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(clone, f"--work-tree={directory}", "add", "--all", "--force", "--", ".", env=index)
        return git(clone, "write-tree", env=index).strip()


def _copier_update(clone: Path, data: dict[str, Any], source: TemplateSource) -> tuple[str, str]:
    """Copier's update in the clone; returns the trees of its renders of the old and the new template."""
    renders: list[str] = []
    token = _recorded_renders.set((clone, renders))
    try:

        def update() -> None:
            with _RenderRecordingWorker(
                dst_path=clone,
                data=data,
                vcs_ref=source.ref,
                defaults=True,
                overwrite=True,
                skip_answered=True,
                unsafe=True,
                quiet=True,
                conflict="inline",
            ) as worker:
                worker.run_update()

        run_copier(update, source.path)
    finally:
        _recorded_renders.reset(token)
    if len(renders) != 2:
        raise PhaseupError(f"unexpected Copier update sequence ({len(renders)} reference renders instead of 2)")
    return renders[0], renders[1]


def _report(
    project: Project, clone: Path, old_render: str, new_render: str
) -> tuple[UpgradeReport, list[str], list[str]]:
    """What the merge changed in the clone; also returns the paths to write and to delete in the project."""
    unmerged = {name for name in git(clone, "diff", "--name-only", "-z", "--diff-filter=U").split("\0") if name}
    git(clone, "add", "--all")
    fields = git(clone, "diff", "--cached", "--no-renames", "--name-status", "-z", "HEAD").split("\0")
    answers = yaml.safe_load((clone / answers_file_name()).read_text(encoding="utf-8"))
    report = UpgradeReport(
        from_phase=project.phase,
        to_phase=parse_phase(answers["phase"]),
        from_version=project.template_ref,
        to_version=str(answers.get("_commit", "")),
        features=feature_change(template_root(), project.answers, answers),
        unapplied=_unapplied_changes(clone, old_render, new_render),
        features_from_phase=phase_still_being_built(template_root(), answers),
    )
    upserts: list[str] = []
    deletions: list[str] = []
    for status, name in zip(fields[0::2], fields[1::2], strict=False):
        if status.startswith("D"):
            deletions.append(name)
            report.deleted.append(name)
            continue
        upserts.append(name)
        if name in unmerged or CONFLICT_LINE.search((clone / name).read_bytes()):
            report.conflicted.append(name)
        elif status.startswith("A"):
            report.added.append(name)
        else:
            report.changed.append(name)
    return report, upserts, deletions


def _unapplied_changes(clone: Path, old_render: str, new_render: str) -> list[UnappliedChange]:
    """Template changes to files the team deleted or renamed since the recorded render: Copier cannot apply them."""
    template_changes = {
        names[0]: status for status, names in _name_status(clone, "--no-renames", old_render, new_render)
    }
    unapplied: list[UnappliedChange] = []
    for status, names in _name_status(clone, "--find-renames", "--diff-filter=DR", old_render, "HEAD"):
        path = names[0]
        change = template_changes.get(path)
        if change is None or change.startswith("A"):
            continue
        if change.startswith("D") and not status.startswith("R"):
            continue  # deleted on both sides: nothing is lost
        diff = git(clone, "diff", "--no-color", "--no-ext-diff", old_render, new_render, "--", path)
        unapplied.append(
            UnappliedChange(
                path=path,
                renamed_to=names[1] if status.startswith("R") else None,
                template_deletes_it=change.startswith("D"),
                diff=diff,
            )
        )
    return unapplied


def _name_status(clone: Path, *args: str) -> list[tuple[str, list[str]]]:
    """`git diff-tree -r --name-status -z` as (status, [path, renamed path...]) pairs."""
    fields = [item for item in git(clone, "diff-tree", "-r", "--name-status", "-z", *args).split("\0") if item]
    entries: list[tuple[str, list[str]]] = []
    index = 0
    while index < len(fields):
        status = fields[index]
        count = 2 if status[0] in "RC" else 1
        entries.append((status, fields[index + 1 : index + 1 + count]))
        index += 1 + count
    return entries
