"""Programs some tests run that pip cannot install (HAProxy, PgBouncer, PostgreSQL's initdb,
Prometheus and its promtool).

On a laptop without one, its tests skip and say which command installs it. Under CI=true a
missing program fails them instead: a pipeline must never go green without running them.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# Debian and Ubuntu package names; Homebrew uses the same ones.
INSTALL_HINTS = {
    "haproxy": "sudo apt-get install haproxy  (macOS: brew install haproxy)",
    "pgbouncer": "sudo apt-get install pgbouncer  (macOS: brew install pgbouncer)",
    "initdb": "sudo apt-get install postgresql  (macOS: brew install postgresql)",
    "promtool": "sudo apt-get install prometheus  (macOS: brew install prometheus)",
    "prometheus": "sudo apt-get install prometheus  (macOS: brew install prometheus)",
}
# Daemons install to sbin, which is not on an ordinary user's PATH.
EXTRA_DIRECTORIES = ("/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin")


def _postgres_bindir() -> list[str]:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return []
    output = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    return [output.stdout.strip()] if output.returncode == 0 else []


def require_binary(name: str) -> Path:
    """The program's path; skips the test without it, or fails it under CI=true."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *EXTRA_DIRECTORIES, *_postgres_bindir()])
    found = shutil.which(name, path=search)
    if found is not None:
        return Path(found)
    message = f"{name} is not installed; install it with: {INSTALL_HINTS.get(name, name)}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: tests that need it must run)")
    pytest.skip(message)
