"""Every git command phaseup runs goes through here, so a missing git or a failing command is one clear error."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from generator.errors import PhaseupError


def git(root: Path, *args: str, check: bool = True, env: Mapping[str, str] | None = None) -> str:
    """Run `git <args>` in `root` and return its standard output.

    With `check`, a non-zero exit raises PhaseupError naming the command and git's own message; `env` entries are
    added to the inherited environment.
    """
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            env={**os.environ, **env} if env else None,
        )
    except FileNotFoundError as error:
        raise PhaseupError("git is not installed or not on PATH; phaseup needs git") from error
    if check and result.returncode != 0:
        raise PhaseupError(f"git {' '.join(args)} failed in {root}: {result.stderr.strip()}")
    return result.stdout
