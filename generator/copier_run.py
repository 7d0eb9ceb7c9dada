"""Call Copier and translate its failures into PhaseupError, so users see one line instead of a traceback."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from copier.errors import CopierAnswersInterrupt, CopierError, DirtyLocalWarning
from plumbum import local
from plumbum.commands.processes import CommandNotFound, ProcessExecutionError

from generator.errors import PhaseupError
from generator.git import git

T = TypeVar("T")

# Copier reports a failed validator or an invalid choice as a bare ValueError starting with one of these.
_ANSWER_ERROR_PREFIXES = ("Validation error for question ", "Invalid choice for ")


@contextmanager
def copier_errors() -> Iterator[None]:
    try:
        with warnings.catch_warnings():
            # Rendering a development checkout with uncommitted template edits is what developers mean to do.
            warnings.simplefilter("ignore", DirtyLocalWarning)
            yield
    except CopierAnswersInterrupt as error:
        raise PhaseupError("aborted: no answers were saved") from error
    except CopierError as error:
        raise PhaseupError(str(error).strip() or type(error).__name__) from error
    except CommandNotFound as error:
        raise PhaseupError("git is not installed or not on PATH; phaseup needs git") from error
    except ProcessExecutionError as error:
        command = " ".join(str(part) for part in error.argv[:3])
        detail = (str(error.stderr).strip().splitlines() or [f"exit code {error.retcode}"])[-1]
        raise PhaseupError(f"Copier's `{command} ...` failed: {detail}") from error
    except ValueError as error:
        message = str(error)
        if not message.startswith(_ANSWER_ERROR_PREFIXES):
            raise
        raise PhaseupError(message.removeprefix("Validation error for ")) from error


def run_copier(action: Callable[[], T], template: Path) -> T:
    """Run a Copier call that reads the template repository at `template`."""
    with copier_errors(), _nested_repositories_hidden(template):
        return action()


@contextmanager
def _nested_repositories_hidden(template: Path) -> Iterator[None]:
    """Keep git repositories nested in a development checkout (e.g. a project generated inside it) out of Copier's
    snapshot of the checkout's uncommitted state, where git would record them as submodules without a URL.

    Copier snapshots with `git add -A`; an extra ignore file, given to its git commands through the environment (the
    user's own global ignore file included), leaves the nested repositories out.
    """
    untracked = git(template, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    nested = [entry for entry in untracked if entry.endswith("/")]
    if not nested:
        yield
        return
    own = git(template, "config", "--path", "--get", "core.excludesFile", check=False).strip()
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    own_file = Path(own) if own else config_home / "git" / "ignore"
    patterns = (own_file.read_text(encoding="utf-8", errors="replace") if own_file.is_file() else "") + "\n"
    patterns += "".join(f"/{entry}\n" for entry in nested)
    count = int(local.env.get("GIT_CONFIG_COUNT", "0") or "0")
    with tempfile.NamedTemporaryFile("w", prefix="phaseup-ignore-", encoding="utf-8") as ignore:
        ignore.write(patterns)
        ignore.flush()
        # Copier runs git through plumbum, whose environment is `local.env` (restored when the block ends).
        with local.env(
            GIT_CONFIG_COUNT=str(count + 1),
            **{f"GIT_CONFIG_KEY_{count}": "core.excludesFile", f"GIT_CONFIG_VALUE_{count}": ignore.name},
        ):
            yield
