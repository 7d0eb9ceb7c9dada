"""The one error type the CLI turns into a clear message and an exit code."""

from __future__ import annotations


class PhaseupError(Exception):
    """A problem the user can fix; the CLI prints it on one line without a traceback."""

    exit_code = 1


def describe_os_error(error: OSError) -> str:
    """A file-system failure in one line: what failed, on which path (e.g. a full disk, a read-only directory)."""
    reason = error.strerror or str(error) or type(error).__name__
    paths = [str(path) for path in (error.filename, error.filename2) if path is not None]
    return f"{reason}: {' -> '.join(paths)}" if paths else reason
