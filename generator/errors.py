"""The one error type the CLI turns into a clear message and an exit code."""


class PhaseupError(Exception):
    """A problem the user can fix; the CLI prints it on one line without a traceback."""

    exit_code = 1
