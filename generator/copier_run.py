"""Call Copier and translate its failures into PhaseupError, so users see one line instead of a traceback."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from copier.errors import CopierAnswersInterrupt, CopierError, DirtyLocalWarning

from generator.errors import PhaseupError

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
    except ValueError as error:
        message = str(error)
        if not message.startswith(_ANSWER_ERROR_PREFIXES):
            raise
        raise PhaseupError(message.removeprefix("Validation error for ")) from error


def run_copier(action: Callable[[], T]) -> T:
    with copier_errors():
        return action()
