"""features.yml, the contract phaseup reads, says exactly what each feature adds to a rendered project.

For every phase and session backend the project is rendered, and what it holds (settings documented in .env.example,
compose services, migration files) must be the phase-1 core of that backend plus exactly what the contract declares
for the features includes/features.yml turns on; declared settings must exist in the settings code and declared
commands in the Makefile. The presets must list the features their phase turns on.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import copier
import jinja2
import pytest
import yaml

from generator.answers import load_questions
from tests.conftest import REPO_ROOT

CONTRACT: dict[str, dict[str, Any]] = yaml.safe_load((REPO_ROOT / "features.yml").read_text(encoding="utf-8"))
CONTRACT_KEYS = {"why", "requires", "settings", "services", "migrations", "commands"}
QUESTIONS = load_questions(REPO_ROOT)
PHASES = QUESTIONS["phase"]["choices"]
BACKENDS = QUESTIONS["session_backend"]["choices"]
DEFAULT_BACKEND = QUESTIONS["session_backend"]["default"]
ENV_NAME = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=", flags=re.MULTILINE)
MAKE_TARGET = re.compile(r"^([a-z][a-z0-9-]*):", flags=re.MULTILINE)
PRESET_FEATURES = re.compile(r"^# Turns on: ([^(\n]*)", flags=re.MULTILINE)


def features_for(phase: int, session_backend: str) -> dict[str, bool]:
    """The computed `features` answer, rendered from includes/features.yml as Copier renders it."""
    document = yaml.safe_load((REPO_ROOT / "includes" / "features.yml").read_text(encoding="utf-8"))
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(document["features"]["default"])
    return dict(yaml.safe_load(template.render(phase=phase, session_backend=session_backend)))


def turned_on(phase: int, session_backend: str) -> set[str]:
    return {name for name, enabled in features_for(phase, session_backend).items() if enabled}


def declared(features: Iterable[str], kind: str) -> set[str]:
    items: set[str] = set()
    for name in features:
        entry = CONTRACT[name]
        if kind == "settings":
            items |= set(entry.get("settings", {}).get("required", [])) | set(
                entry.get("settings", {}).get("optional", [])
            )
        else:
            items |= set(entry.get(kind, []))
    return items


@cache
def rendered(phase: int, session_backend: str, root: Path) -> Path:
    destination = root / f"phase{phase}-{session_backend}"
    copier.run_copy(
        str(REPO_ROOT),
        destination,
        data={"project_name": "Contract Shop", "phase": phase, "session_backend": session_backend, "ci": "none"},
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref="HEAD",
    )
    return destination


def holds(project: Path, kind: str) -> set[str]:
    """What a rendered project has of one kind of contract item."""
    if kind == "settings":
        return set(ENV_NAME.findall((project / ".env.example").read_text(encoding="utf-8")))
    if kind == "services":
        return set(yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))["services"])
    if kind == "migrations":
        return {path.name for path in (project / "migrations" / "versions").glob("*.py")}
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def render_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("contract")


def test_every_feature_flag_has_a_contract_entry_and_back() -> None:
    for phase, backend in itertools.product(PHASES, BACKENDS):
        assert set(features_for(phase, backend)) == set(CONTRACT), (phase, backend)


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_entry_is_well_formed(name: str) -> None:
    entry = CONTRACT[name]
    assert set(entry) <= CONTRACT_KEYS, f"{name}: unknown keys {set(entry) - CONTRACT_KEYS}"
    why = entry["why"]
    assert isinstance(why, str) and why.strip() and "\n" not in why.strip() and len(why) <= 120, name
    assert set(entry.get("settings", {})) <= {"required", "optional"}, name
    for kind in ("requires", "services", "migrations", "commands"):
        assert isinstance(entry.get(kind, []), list), f"{name}.{kind} must be a list"
    settings = entry.get("settings", {})
    assert not set(settings.get("required", [])) & set(settings.get("optional", [])), name


def test_each_item_belongs_to_one_feature() -> None:
    for kind in ("settings", "services", "migrations", "commands"):
        for first, second in itertools.combinations(sorted(CONTRACT), 2):
            shared = declared([first], kind) & declared([second], kind)
            assert not shared, f"{kind} {sorted(shared)} declared by both {first} and {second}"


def test_required_features_are_on_whenever_their_dependents_are() -> None:
    """`requires` holds for every answer: a feature never runs without the features it builds on."""
    for phase, backend in itertools.product(PHASES, BACKENDS):
        on = turned_on(phase, backend)
        for name in on:
            missing = set(CONTRACT[name].get("requires", [])) - on
            assert not missing, f"phase {phase}, {backend} sessions: {name} is on without {sorted(missing)}"


@pytest.mark.parametrize("session_backend", BACKENDS)
@pytest.mark.parametrize("kind", ["settings", "services", "migrations"])
def test_rendered_projects_hold_the_core_plus_exactly_the_declared_items(
    render_root: Path, kind: str, session_backend: str
) -> None:
    first = PHASES[0]
    baseline = rendered(first, session_backend, render_root)
    on_at_first = turned_on(first, session_backend)
    assert declared(on_at_first, kind) <= holds(baseline, kind)
    core = holds(baseline, kind) - declared(on_at_first, kind)
    for phase in PHASES:
        project = rendered(phase, session_backend, render_root)
        expected = core | declared(turned_on(phase, session_backend), kind)
        held = holds(project, kind)
        assert held == expected, (
            f"phase {phase}, {session_backend} sessions: {kind} not declared in features.yml: "
            f"{sorted(held - expected)}; declared but missing: {sorted(expected - held)}"
        )


@pytest.mark.parametrize("session_backend", BACKENDS)
def test_declared_settings_and_commands_exist_in_the_code(render_root: Path, session_backend: str) -> None:
    project = rendered(PHASES[-1], session_backend, render_root)
    on = turned_on(PHASES[-1], session_backend)
    code = "\n".join(path.read_text(encoding="utf-8") for path in (project / "src").rglob("*.py"))
    fields = set(re.findall(r"^\s+([a-z][a-z0-9_]*)\s*:", code, flags=re.MULTILINE))
    missing = sorted(name for name in declared(on, "settings") if name.lower() not in fields)
    assert not missing, f"declared in features.yml but no settings field reads them: {missing}"
    targets = set(MAKE_TARGET.findall((project / "Makefile").read_text(encoding="utf-8")))
    for command in sorted(declared(on, "commands")):
        assert command.startswith("make "), f"{command!r}: only make targets are declared as commands"
        assert command.removeprefix("make ") in targets, f"{command!r}: no such target in the Makefile"


@pytest.mark.parametrize("phase", PHASES)
def test_each_preset_lists_the_features_its_phase_turns_on(phase: int) -> None:
    preset_text = (REPO_ROOT / "presets" / f"phase{phase}.yml").read_text(encoding="utf-8")
    preset = yaml.safe_load(preset_text)
    assert preset["phase"] == phase
    assert set(preset) <= set(QUESTIONS), "a preset holds only answers"
    listed = PRESET_FEATURES.findall(preset_text)
    assert len(listed) == 1, "each preset has one '# Turns on: ...' line"
    names = {name.strip() for name in listed[0].split(",")} - {"none", ""}
    earlier = turned_on(phase - 1, DEFAULT_BACKEND) if phase > PHASES[0] else set()
    assert names == turned_on(phase, DEFAULT_BACKEND) - earlier
