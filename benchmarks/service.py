"""The generated service, run as in production: its own virtualenv, a throwaway database, `make serve`'s command."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.measure import BenchmarkError, run_command
from benchmarks.toolchain import Phaseup, uv_path

PASSWORD = "benchmark password 1234"
SESSION_COOKIE = "__Host-session"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Database:
    """A database created for this run and dropped at the end (`admin_url` is a libpq URL to an existing one)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"phaseup_bench_{secrets.token_hex(4)}"
        self.url = _with_database(admin_url, self.name)
        _psql(admin_url, f'CREATE DATABASE "{self.name}"')

    @property
    def sqlalchemy_url(self) -> str:
        return self.url.replace("postgresql://", "postgresql+psycopg://", 1)

    def sql(self, *statements: str) -> str:
        """Run statements one by one (each -c is its own transaction, so VACUUM works); returns unaligned output."""
        return _psql(self.url, *statements)

    def drop(self) -> None:
        _psql(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _psql(url: str, *statements: str) -> str:
    command = ["psql", "--no-psqlrc", "--quiet", "--tuples-only", "--no-align", "-v", "ON_ERROR_STOP=1", "-d", url]
    for statement in statements:
        command += ["-c", statement]
    return run_command(command).stdout.strip()


def require_postgres(admin_url: str) -> None:
    try:
        _psql(admin_url, "SELECT 1")
    except BenchmarkError as error:
        raise BenchmarkError(
            f"PostgreSQL is not reachable at {admin_url}: start it (e.g. `pg_ctlcluster <version> main start`) or "
            f"point --database-admin-url at a server where this user may create databases.\n{error}"
        ) from None


class RedisClient:
    """Just enough of the Redis protocol for a reachability check and the clean-up of this run's keys.

    The benchmarks' own process uses only the standard library (the redis package lives in the generated
    project's virtualenv, not here), and these are the only two things it asks of Redis.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._connection = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=5)
        self._reader = self._connection.makefile("rb")
        if parts.password:
            self.command("AUTH", *([parts.username] if parts.username else []), parts.password)
        if parts.path.strip("/"):
            self.command("SELECT", parts.path.strip("/"))

    def command(self, *arguments: str) -> object:
        encoded = [argument.encode() for argument in arguments]
        self._connection.sendall(
            b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in encoded)
        )
        return self._reply()

    def _reply(self) -> object:
        line = self._reader.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise BenchmarkError(f"Redis error: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            return None if int(rest) < 0 else self._reader.read(int(rest) + 2)[:-2].decode()
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        return rest.decode()

    def delete_prefix(self, prefix: str) -> None:
        """Delete every key starting with `prefix`, walking the keyspace with SCAN (never KEYS)."""
        cursor = "0"
        while True:
            reply = self.command("SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000")
            if not isinstance(reply, list):
                raise BenchmarkError(f"unexpected SCAN reply {reply!r}")
            cursor, keys = reply
            if keys:
                self.command("DEL", *keys)
            if cursor == "0":
                return

    def close(self) -> None:
        self._reader.close()
        self._connection.close()


def require_redis(url: str) -> None:
    try:
        client = RedisClient(url)
        answer = client.command("PING")
        client.close()
    except (OSError, BenchmarkError) as error:
        answer = str(error)
    if answer != "PONG":
        raise BenchmarkError(
            f"Redis is not reachable at {url} ({answer}): start it (`redis-server --daemonize yes`) or set --redis-url"
        )


def delete_redis_keys(url: str, prefix: str) -> None:
    client = RedisClient(url)
    try:
        client.delete_prefix(prefix)
    finally:
        client.close()


@dataclass(frozen=True)
class GeneratedProject:
    """A project rendered by phaseup and installed with `uv sync`, as a team would after `phaseup new`."""

    root: Path
    slug: str

    @classmethod
    def create(cls, phaseup: Phaseup, destination: Path, *, phase: int, answers: dict[str, str]) -> GeneratedProject:
        data = [part for name, value in answers.items() for part in ("-d", f"{name}={value}")]
        run_command(
            [phaseup.phaseup, "new", destination, "--defaults", "--no-git", "--phase", str(phase), *data],
            env=phaseup.env,
        )
        try:
            run_command([uv_path(), "sync", "--quiet", "--python", sys.executable], cwd=destination, env=phaseup.env)
        except BenchmarkError as error:
            raise BenchmarkError(
                f"the generated project ({destination.name}) does not install with `uv sync`:\n{error}"
            ) from None
        slug = answers["project_slug"]
        return cls(root=destination, slug=slug)

    def serve_command(self, env_file: Path, port: int) -> list[str]:
        """`make serve` as the project's Makefile spells it, bound to 127.0.0.1:<port> instead of 0.0.0.0:8000."""
        printed = run_command(
            ["make", "--dry-run", "--no-print-directory", "serve", f"ENV_FILE={env_file}"], cwd=self.root
        )
        lines = [line for line in printed.stdout.splitlines() if "uvicorn" in line or "gunicorn" in line]
        if len(lines) != 1:
            raise BenchmarkError(f"cannot find one server command in `make -n serve`:\n{printed.stdout}")
        command = shlex.split(lines[0])
        for option, value in (("--host", "127.0.0.1"), ("--port", str(port))):
            if option in command:
                command[command.index(option) + 1] = value
            else:
                command += [option, value]
        return command

    def run(self, env_file: Path, *command: str) -> str:
        return run_command([uv_path(), "run", "--env-file", env_file, *command], cwd=self.root).stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One server process group, pinned to `cpus`, stopped by its process-group id."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str], log: Path, cpus: str | None) -> None:
        self.port = int(command[command.index("--port") + 1])
        self.log = log
        self.command = command
        pinned = ["taskset", "--cpu-list", cpus, *command] if cpus else command
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                pinned, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def wait_until_serving(self, path: str = "/livez", timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _, _ = request("127.0.0.1", self.port, "GET", path)
            except OSError:
                status = 0
            if status == 200:
                return
            time.sleep(0.2)
        raise BenchmarkError(f"the server did not answer {path} within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: object = None,
    cookie: str | None = None,
    bearer: str | None = None,
) -> tuple[int, dict[str, list[str]], bytes]:
    """One HTTP request; returns status, headers (lower-cased names, every value) and body."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if cookie:
        headers["Cookie"] = cookie
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        collected: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            collected.setdefault(name.lower(), []).append(value)
        return response.status, collected, response.read()
    finally:
        connection.close()


def sign_up(server: Server, email: str) -> None:
    status, _, body = request(
        "127.0.0.1", server.port, "POST", "/accounts/signup", {"email": email, "password": PASSWORD}
    )
    if status != 201:
        raise BenchmarkError(f"sign-up of {email} answered {status}: {body[:500]!r}")


def log_in(server: Server, email: str) -> str:
    """Log in through the API; returns the Cookie header value carrying the session."""
    status, headers, body = request(
        "127.0.0.1", server.port, "POST", "/accounts/login", {"email": email, "password": PASSWORD}
    )
    if status != 200:
        raise BenchmarkError(f"login of {email} answered {status}: {body[:500]!r}")
    for header in headers.get("set-cookie", []):
        name, _, rest = header.partition("=")
        if name.strip() == SESSION_COOKIE:
            return f"{SESSION_COOKIE}={rest.split(';', 1)[0]}"
    raise BenchmarkError(f"login set no {SESSION_COOKIE} cookie: {headers.get('set-cookie')}")
