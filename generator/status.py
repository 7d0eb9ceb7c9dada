"""`phaseup status`: a project's phase, template version, and whether the installed phaseup is newer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from generator.project import open_project
from generator.template_source import installed_version


@dataclass(frozen=True)
class Status:
    root: Path
    name: str
    phase: int
    template_ref: str
    template_source: str
    installed: str
    update_available: bool
    next_phase: int | None


def project_status(path: Path) -> Status:
    project = open_project(path)
    installed = installed_version()
    version = project.template_version
    return Status(
        root=project.root,
        name=str(project.answers.get("project_name", project.root.name)),
        phase=project.phase,
        template_ref=project.template_ref,
        template_source=str(project.answers.get("_src_path", "")),
        installed=installed,
        update_available=version is not None and version < Version(installed),
        next_phase=project.phase + 1 if project.phase < 3 else None,
    )
