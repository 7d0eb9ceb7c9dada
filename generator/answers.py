"""Turn `--phase` and `--data` into Copier answers: the phase preset first, the user's explicit data on top."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from generator.contract import template_config
from generator.errors import PhaseupError
from generator.template_source import template_root


def load_questions(root: Path) -> dict[str, dict[str, Any]]:
    """The questions a user may answer, by name (settings and computed values left out)."""
    return template_config(root).questions


def phases() -> tuple[int, ...]:
    """The phases the installed template offers (the choices of its `phase` question)."""
    return template_config(template_root()).phases


def load_preset(root: Path, phase: int) -> dict[str, Any]:
    """The answers a phase implies, from presets/phase<N>.yml."""
    parse_phase(phase)
    with (root / "presets" / f"phase{phase}.yml").open(encoding="utf-8") as handle:
        preset = yaml.safe_load(handle) or {}
    return dict(preset)


def parse_data(items: list[str]) -> dict[str, str]:
    """Parse repeated `--data KEY=VALUE` options."""
    data: dict[str, str] = {}
    for item in items:
        key, separator, value = item.partition("=")
        key = key.strip()
        if not separator or not key:
            raise PhaseupError(f"malformed --data {item!r}: expected KEY=VALUE, e.g. --data ci=gitlab")
        data[key] = value
    return data


def parse_phase(value: object) -> int:
    known = phases()
    try:
        phase = int(str(value))
    except ValueError:
        phase = -1
    if phase not in known:
        raise PhaseupError(f"unknown phase {value!s}: choose one of {', '.join(map(str, known))}")
    return phase


def build_answers(root: Path, phase: int | None, data: dict[str, str], *, ask_phase: bool = False) -> dict[str, Any]:
    """Answers for Copier: the preset of the chosen phase, overridden by explicit `--data`.

    With `ask_phase` and no phase given, the phase is left for Copier to ask; copier.yml's defaults then follow
    the answer the same way the presets do.
    """
    questions = load_questions(root)
    unknown = sorted(set(data) - set(questions))
    if unknown:
        raise PhaseupError(f"unknown --data key {', '.join(unknown)}: known keys are {', '.join(sorted(questions))}")
    if "phase" in data:
        data_phase = parse_phase(data["phase"])
        if phase is not None and phase != data_phase:
            raise PhaseupError(f"--phase {phase} contradicts --data phase={data['phase']}")
        phase = data_phase
    explicit = {key: _checked(key, _typed(value, questions[key]), questions[key]) for key, value in data.items()}
    if phase is None and ask_phase:
        return explicit
    chosen = parse_phase(phase if phase is not None else questions["phase"]["default"])
    return {**load_preset(root, chosen), **explicit, "phase": chosen}


def _checked(name: str, value: Any, question: dict[str, Any]) -> Any:
    choices = question.get("choices")
    if choices is not None and value not in choices:
        raise PhaseupError(f"invalid {name} {value!r}: choose one of {', '.join(map(str, choices))}")
    return value


def _typed(value: str, question: dict[str, Any]) -> Any:
    """Give a command-line string the type its question declares, so Copier validates it as such."""
    kind = question.get("type", "str")
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "bool":
        lowered = value.lower()
        if lowered in {"true", "yes", "y", "1", "on"}:
            return True
        if lowered in {"false", "no", "n", "0", "off"}:
            return False
    return value
