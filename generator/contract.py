"""What the template declares about itself, read once: its questions, phases, answers file and feature contract.

copier.yml (with the files it `!include`s) holds the questions, the phase choices, the answers file name and the
computed `features` answer; features.yml holds, per feature, why a project wants it and what a team must do when an
upgrade brings it. phaseup reads both instead of guessing from rendered files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from generator.errors import PhaseupError

COPIER_FILE = "copier.yml"
CONTRACT_FILE = "features.yml"
FEATURES_ANSWER = "features"


class _Include:
    """A `!include` document of copier.yml: a glob relative to the template root."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern


class _CopierYamlLoader(yaml.SafeLoader):
    """Reads copier.yml, keeping its `!include` tags so the included files can be read too."""


def _construct_include(loader: yaml.SafeLoader, node: yaml.Node) -> _Include:
    return _Include(str(node.value))


_CopierYamlLoader.add_constructor("!include", _construct_include)


@dataclass(frozen=True)
class TemplateConfig:
    """copier.yml merged with its includes: settings (`_name`), questions asked, and computed answers."""

    settings: dict[str, Any]
    questions: dict[str, dict[str, Any]]
    computed: dict[str, dict[str, Any]]

    @property
    def answers_file(self) -> str:
        return str(self.settings.get("_answers_file", ".copier-answers.yml"))

    @property
    def phases(self) -> tuple[int, ...]:
        return tuple(int(choice) for choice in self.questions["phase"]["choices"])


@functools.cache
def template_config(root: Path) -> TemplateConfig:
    """Read copier.yml at `root` and every file it includes (once per template root)."""
    settings: dict[str, Any] = {}
    questions: dict[str, dict[str, Any]] = {}
    computed: dict[str, dict[str, Any]] = {}
    for document in _documents(root, root / COPIER_FILE):
        for name, spec in document.items():
            if name.startswith("_"):
                settings[name] = spec
            elif isinstance(spec, dict) and spec.get("when") is False:
                computed[name] = spec
            elif isinstance(spec, dict):
                questions[name] = spec
    return TemplateConfig(settings=settings, questions=questions, computed=computed)


def _documents(root: Path, path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as handle:
            loaded = list(yaml.load_all(handle, Loader=_CopierYamlLoader))
    except (OSError, yaml.YAMLError) as error:
        raise PhaseupError(f"cannot read the template's {path.name} ({path}): {error}") from error
    documents: list[dict[str, Any]] = []
    for document in loaded:
        if isinstance(document, _Include):
            for included in sorted(root.glob(document.pattern)):
                documents += _documents(root, included)
        elif isinstance(document, dict):
            documents.append(document)
    return documents


@dataclass(frozen=True)
class Feature:
    """One entry of features.yml."""

    name: str
    why: str
    required_settings: tuple[str, ...] = ()
    optional_settings: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    migrations: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()


@functools.cache
def feature_contract(root: Path) -> dict[str, Feature]:
    """features.yml at the template root, by feature name."""
    path = root / CONTRACT_FILE
    try:
        declared = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as error:
        raise PhaseupError(f"phaseup is installed without its feature contract ({path}); reinstall it") from error
    except (OSError, yaml.YAMLError) as error:
        raise PhaseupError(f"cannot read the feature contract {path}: {error}") from error
    contract: dict[str, Feature] = {}
    for name, spec in declared.items():
        settings = spec.get("settings") or {}
        contract[name] = Feature(
            name=name,
            why=str(spec.get("why", "")).strip(),
            required_settings=tuple(settings.get("required") or ()),
            optional_settings=tuple(settings.get("optional") or ()),
            services=tuple(spec.get("services") or ()),
            migrations=tuple(spec.get("migrations") or ()),
            commands=tuple(spec.get("commands") or ()),
        )
    return contract


def features_of(root: Path, answers: dict[str, Any]) -> list[str]:
    """The features a project with these answers has, in declaration order: the computed `features` answer rendered
    the way Copier renders it, with the question defaults standing in for answers not given."""
    config = template_config(root)
    spec = config.computed.get(FEATURES_ANSWER)
    if spec is None:
        raise PhaseupError(f"the template's {COPIER_FILE} declares no computed `{FEATURES_ANSWER}` answer")
    context = {
        **{name: question.get("default") for name, question in config.questions.items()},
        **{name: value for name, value in answers.items() if not name.startswith("_")},
    }
    environment = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)
    try:
        rendered = yaml.safe_load(environment.from_string(str(spec["default"])).render(context)) or {}
    except (TemplateError, yaml.YAMLError) as error:
        raise PhaseupError(f"cannot compute the project's features from its answers: {error}") from error
    return [name for name, enabled in rendered.items() if enabled is True]


@dataclass
class FeatureChange:
    """What moving a project from one set of answers to another adds, as the contract declares it."""

    added: list[Feature] = field(default_factory=list)
    required_settings: list[str] = field(default_factory=list)
    optional_settings: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    migrations: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


def feature_change(root: Path, before: dict[str, Any], after: dict[str, Any]) -> FeatureChange:
    """The features `after` has and `before` lacks, and what they bring that `before`'s features did not."""
    contract = feature_contract(root)
    old = [contract[name] for name in features_of(root, before) if name in contract]
    new = [contract[name] for name in features_of(root, after) if name in contract]
    change = FeatureChange(added=[feature for feature in new if feature not in old])

    def brought(attribute: str, already: frozenset[str] = frozenset()) -> list[str]:
        had = {item for feature in old for item in getattr(feature, attribute)} | already
        result: list[str] = []
        for feature in change.added:
            result += [item for item in getattr(feature, attribute) if item not in had and item not in result]
        return result

    change.required_settings = brought("required_settings")
    change.optional_settings = brought("optional_settings", frozenset(change.required_settings))
    change.services = brought("services")
    change.migrations = brought("migrations")
    change.commands = brought("commands")
    return change


def phase_still_being_built(root: Path, answers: dict[str, Any]) -> int | None:
    """The earlier phase whose features a project with these answers actually gets, when its own phase adds none
    (a phase declared in copier.yml whose features are not built yet); None when the phase adds features."""
    phase = int(answers["phase"])
    earlier = [candidate for candidate in template_config(root).phases if candidate < phase]
    if earlier and features_of(root, answers) == features_of(root, {**answers, "phase": earlier[-1]}):
        return earlier[-1]
    return None
