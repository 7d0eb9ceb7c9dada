"""`phaseup status`: a project's phase and features, its template version against the installed phaseup, and what
the next phase would add."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from generator.answers import load_preset, phases
from generator.contract import Feature, feature_change, features_of
from generator.git import git
from generator.project import Project, open_project
from generator.template_source import installed_version, rendered_version, resolve_template, template_root


class TemplateState(Enum):
    """How the project's recorded template version relates to the installed phaseup."""

    CURRENT = "current"  # the installed phaseup's template
    UPDATE_AVAILABLE = "update available"  # older, and its template is here: `phaseup update` can merge
    UNAVAILABLE = "unavailable"  # older, but its template is not here: no three-way merge possible
    NEWER = "newer"  # rendered by a newer phaseup than the installed one
    UNKNOWN = "unknown"  # not a release version (e.g. rendered from a development checkout)


@dataclass(frozen=True)
class Status:
    root: Path
    name: str
    phase: int
    features: list[str]
    template_ref: str
    template_source: str
    installed: str
    template_state: TemplateState
    next_phase: int | None
    next_phase_adds: list[Feature]

    @property
    def template_note(self) -> str:
        """What the recorded template version means for this project, for people."""
        return _TEMPLATE_NOTES[self.template_state].format(ref=self.template_ref)


_TEMPLATE_NOTES = {
    TemplateState.CURRENT: "up to date",
    TemplateState.UPDATE_AVAILABLE: "update available: run `phaseup update`",
    TemplateState.UNAVAILABLE: (
        "the project's template {ref} is not available here, so `phaseup update` cannot merge: install the phaseup "
        "release that generated it once, which adds its template here"
    ),
    TemplateState.NEWER: (
        "older than the project's template {ref}: upgrade phaseup (pip install -U phaseup) before updating or "
        "upgrading this project"
    ),
    TemplateState.UNKNOWN: (
        "the project records template '{ref}', not a phaseup release: it was rendered from a development checkout, "
        "so phaseup cannot tell whether it is current"
    ),
}


def project_status(path: Path) -> Status:
    project = open_project(path)
    later = [phase for phase in phases() if phase > project.phase]
    next_phase = later[0] if later else None
    root = template_root()
    adds = (
        feature_change(root, project.answers, {**project.answers, **load_preset(root, next_phase)}).added
        if next_phase is not None
        else []
    )
    return Status(
        root=project.root,
        name=str(project.answers.get("project_name", project.root.name)),
        phase=project.phase,
        features=features_of(root, project.answers),
        template_ref=project.template_ref,
        template_source=str(project.answers.get("_src_path", "")),
        installed=installed_version(),
        template_state=_template_state(project),
        next_phase=next_phase,
        next_phase_adds=adds,
    )


def _template_state(project: Project) -> TemplateState:
    version = project.template_version
    if version is None:
        return TemplateState.UNKNOWN
    source = resolve_template()
    installed = rendered_version(source)
    if version == installed:
        return TemplateState.CURRENT
    if version > installed:
        return TemplateState.NEWER
    if git(source.path, "rev-parse", "--verify", "--quiet", f"{project.template_ref}^{{commit}}", check=False):
        return TemplateState.UPDATE_AVAILABLE
    return TemplateState.UNAVAILABLE
