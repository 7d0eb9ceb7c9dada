"""Items 3-5: the generated service under a real load generator, always against a baseline measured alongside."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.load import LoadGenerator
from benchmarks.measure import BenchmarkError, Case, Report, Sizes, rotated
from benchmarks.service import (
    Database,
    GeneratedProject,
    Server,
    delete_redis_keys,
    free_port,
    log_in,
    request,
    require_postgres,
    require_redis,
    sign_up,
)
from benchmarks.toolchain import Phaseup

# Production serves /metrics only with a token; the benchmarked services get this one.
METRICS_TOKEN = secrets.token_urlsafe(24)

BENCHMARKS_DIR = Path(__file__).resolve().parent
PROJECT_SLUG = "bench_shop"
ITEMS_PER_USER = 100  # every user owns this many items; the table grows by adding users
LIST_PATH = "/items?status=open&sort=-created_at&limit=20"
SUMMARY_PATH = "/items/summary"
SUMMARY_ITEMS_PER_USER = 20_000  # what the summary counts for each measured user: an expensive read
FLOOR_EXTRA_PACKAGE = "psycopg-pool>=3.2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("HTTP benchmarks (index, middleware, cache)")
    group.add_argument("--duration", type=float, help="seconds per measured load run (default 10; 1 with --smoke)")
    group.add_argument("--warmup", type=float, help="seconds of unrecorded load before each run (default 2)")
    group.add_argument("--connections", type=int, default=8, help="load generator connections (default 8)")
    group.add_argument("--server-cpus", help="taskset CPU list for the server (default: the last CPU)")
    group.add_argument("--load-cpus", help="taskset CPU list for the load generator (default: CPU 0)")
    group.add_argument(
        "--database-admin-url",
        default=os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="libpq URL of a database whose user may create databases (env BENCH_DATABASE_ADMIN_URL)",
    )
    group.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for the generated service (env BENCH_REDIS_URL); keys get a random prefix",
    )


@dataclass
class RunningService:
    """A generated project served against its own throwaway database."""

    project: GeneratedProject
    database: Database
    server: Server
    env_file: Path


class HttpSetup:
    """Projects, databases and servers for the HTTP benchmarks; close() stops and drops everything it started."""

    def __init__(self, phaseup: Callable[[], Phaseup], scratch: Path, args: argparse.Namespace, sizes: Sizes) -> None:
        self._phaseup = phaseup
        self.scratch = scratch
        self.args = args
        self.sizes = sizes
        self.repeats = sizes.repeats
        self.duration_s = sizes.duration_s
        self.warmup_s = sizes.warmup_s
        self.row_counts = sizes.row_counts
        self._projects: dict[tuple[int, str], GeneratedProject] = {}
        self._cleanups: list[Callable[[], None]] = []
        cpus = os.cpu_count() or 1
        can_pin = cpus >= 2 and shutil.which("taskset") is not None
        self.server_cpus = args.server_cpus or (str(cpus - 1) if can_pin else None)
        self.load = LoadGenerator(args.connections, args.load_cpus or ("0" if can_pin else None), shutil.which("wrk"))
        self.pinning = (
            f"server on CPU {self.server_cpus}, load generator on CPU {self.load.cpus}; PostgreSQL and Redis unpinned"
            if self.server_cpus and self.load.cpus
            else "not pinned (needs 2 CPUs and taskset)"
        )

    def describe(self) -> dict[str, Any]:
        return {
            "pinning": self.pinning,
            "load_generator": f"{self.load.name}: 1 thread, {self.load.connections} connections, "
            f"{self.duration_s:g} s per run after {self.warmup_s:g} s of warm-up",
        }

    def project(self, phase: int, session_backend: str = "database") -> GeneratedProject:
        """The project generated at `phase` with `session_backend`, created and installed on first use."""
        key = (phase, session_backend)
        if key not in self._projects:
            require_postgres(self.args.database_admin_url)
            if session_backend == "redis" or phase >= 2:
                require_redis(self.args.redis_url)
            answers = {"project_name": "Bench Shop", "project_slug": PROJECT_SLUG, "session_backend": session_backend}
            destination = self.scratch / f"service-phase{phase}-{session_backend}"
            self._projects[key] = GeneratedProject.create(self._phaseup(), destination, phase=phase, answers=answers)
        return self._projects[key]

    def start(
        self, phase: int, label: str, *, session_backend: str = "database", overrides: dict[str, str] | None = None
    ) -> RunningService:
        """Migrate a new database and serve the project on it with the production server command."""
        project = self.project(phase, session_backend)
        database = Database(self.args.database_admin_url)
        self._cleanups.append(database.drop)
        environment = self._environment(project, database, overrides)
        # Sessions, cache entries and queued jobs all live under this run's random key prefix.
        self._cleanups.append(lambda: delete_redis_keys(self.args.redis_url, environment["REDIS_KEY_PREFIX"]))
        env_file = self.scratch / f"{label}.env"
        # Single quotes: dotenv reads the value literally (an unquoted value with spaces ends the file for uv).
        lines = "".join(f"{name}='{value.strip(chr(39) + chr(34))}'\n" for name, value in environment.items())
        env_file.write_text(lines, encoding="utf-8")
        project.run(env_file, "alembic", "upgrade", "head")
        server = self._serve(project, project.serve_command(env_file, free_port()), label)
        server.wait_until_serving("/livez")
        return RunningService(project, database, server, env_file)

    def start_bare(self, project: GeneratedProject, env_file: Path) -> Server:
        """benchmarks/bare_app.py served by the same command, interpreter and packages as the generated app."""
        server = self._serve(project, self._benchmark_app_command(project, env_file, "bare_app"), "bare")
        server.wait_until_serving("/me")
        return server

    def start_floor(self, service: RunningService, label: str) -> Server:
        """benchmarks/floor_app.py on `service`'s database and settings, served like the generated app.

        Same command, interpreter and packages, plus psycopg_pool (not a dependency of the generated project),
        layered on for this process only by `uv run --with`.
        """
        command = self._benchmark_app_command(service.project, service.env_file, "floor_app")
        if Path(command[0]).name != "uv" or command[1:2] != ["run"]:
            raise BenchmarkError(f"`make serve` does not start with `uv run`, cannot add psycopg_pool: {command}")
        command[2:2] = ["--with", FLOOR_EXTRA_PACKAGE]
        server = self._serve(service.project, command, label)
        server.wait_until_serving("/livez")
        return server

    def _benchmark_app_command(self, project: GeneratedProject, env_file: Path, module: str) -> list[str]:
        """The project's serve command with its app factory replaced by `module:create_app` of benchmarks/."""
        command = project.serve_command(env_file, free_port())
        application = next(part for part in command if part.endswith(":create_app"))
        command[command.index(application)] = f"{module}:create_app"
        return [*command, "--app-dir", str(BENCHMARKS_DIR)]

    def _serve(self, project: GeneratedProject, command: list[str], label: str) -> Server:
        server = Server(
            command,
            cwd=project.root,
            env=self._phaseup().env,
            log=self.scratch / f"{label}.log",
            cpus=self.server_cpus,
        )
        self._cleanups.append(server.stop)
        return server

    def _environment(
        self, project: GeneratedProject, database: Database, overrides: dict[str, str] | None
    ) -> dict[str, str]:
        """The project's .env.example with this run's services filled in: production mode, one worker."""
        example = project.root / ".env.example"
        listed = example.read_text(encoding="utf-8") if example.is_file() else ""
        values = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", listed, re.MULTILINE))
        values.update(
            {
                "ENVIRONMENT": "production",
                "SECRET_KEY": secrets.token_urlsafe(48),
                "DATABASE_URL": database.sqlalchemy_url,
                "DATABASE_READ_URL": database.sqlalchemy_url,
                "REDIS_URL": self.args.redis_url,
                "REDIS_KEY_PREFIX": f"phaseup-bench-{secrets.token_hex(4)}:",
                "S3_BUCKET": "phaseup-bench",
                # No benchmarked request touches S3; the client is only built at start-up.
                "S3_ENDPOINT_URL": "http://127.0.0.1:9",
                "AWS_ACCESS_KEY_ID": "benchmark",
                "AWS_SECRET_ACCESS_KEY": "benchmark",
                "LOG_LEVEL": "INFO",
                "WEB_CONCURRENCY": "1",  # one worker process for the one CPU the server is pinned to
                # Production serves /metrics only with this token (_cache_hits sends it).
                "METRICS_TOKEN": METRICS_TOKEN,
                # Every benchmark user signs up from 127.0.0.1, which the per-address limit would refuse.
                "SIGNUP_RATE_LIMIT_ATTEMPTS": "100000",
            }
        )
        values.update(overrides or {})
        return values

    def measure(self, case: Case, port: int, path: str, cookies: list[str]) -> None:
        if self.warmup_s > 0:
            self.load.run(port, path, cookies, self.warmup_s)
        result = self.load.run(port, path, cookies, self.duration_s)
        case.add("req_per_s", result.requests_per_s)
        case.add("p50_ms", result.p50_ms)
        case.add("p99_ms", result.p99_ms)

    def close(self) -> None:
        problems = []
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except (BenchmarkError, OSError) as error:
                problems.append(str(error))
        self._cleanups.clear()
        if problems:
            raise BenchmarkError("cleanup failed:\n" + "\n".join(problems))


def _get_json(server: Server, path: str, cookie: str) -> Any:
    status, _, body = request("127.0.0.1", server.port, "GET", path, cookie=cookie)
    if status != 200:
        raise BenchmarkError(f"GET {path} answered {status}: {body[:500]!r}")
    return json.loads(body)


def seed(service: RunningService, rows: int, logged_in_users: int, items_per_user: int = ITEMS_PER_USER) -> list[str]:
    """rows / items_per_user users owning items_per_user items each; returns session cookies of the first few.

    One user signs up through the API; the others are inserted in SQL with the same password hash, and the items
    with generate_series, interleaved across users as if created over time. The logged-in users log in through
    the API, so their sessions are real ones.
    """
    users = max(1, rows // items_per_user)
    sign_up(service.server, "bench-0@example.com")
    service.database.sql(
        "INSERT INTO users (id, email, password_hash) "
        "SELECT gen_random_uuid(), 'bench-' || g || '@example.com', "
        "(SELECT password_hash FROM users WHERE email = 'bench-0@example.com') "
        f"FROM generate_series(1, {users - 1}) AS g",
        "INSERT INTO items (id, owner_id, title, status, priority, created_at) "
        "SELECT gen_random_uuid(), u.id, 'Item ' || md5(u.id::text || g), "
        "(ARRAY['open', 'in_progress', 'done'])[1 + g % 3], 1 + (g * 7) % 5, "
        f"now() - make_interval(secs => ({items_per_user} - g) * 3600 + random() * 3600) "
        f"FROM generate_series(1, {items_per_user}) AS g CROSS JOIN users AS u ORDER BY g, u.id",
        "VACUUM ANALYZE users",
        "VACUUM ANALYZE items",
    )
    count = int(service.database.sql("SELECT count(*) FROM items"))
    if count != users * items_per_user:
        raise BenchmarkError(f"seeding wrote {count} items, expected {users * items_per_user}")
    return [log_in(service.server, f"bench-{n}@example.com") for n in range(min(logged_in_users, users))]


@dataclass(frozen=True)
class OwnerIndexes:
    """The items indexes whose first column is owner_id: the ones that can serve the list endpoint."""

    definitions: dict[str, str]  # name -> CREATE INDEX statement
    columns: dict[str, list[str]]

    @classmethod
    def read(cls, database: Database) -> OwnerIndexes:
        rows = database.sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'items'").splitlines()
        definitions, columns = {}, {}
        for row in rows:
            name, definition = row.split("|", 1)
            found = re.search(r"\((.*)\)", definition)
            listed = [column.strip() for column in found.group(1).split(",")] if found else []
            if listed[:1] == ["owner_id"]:
                definitions[name], columns[name] = definition, listed
        if not any(listed[:2] == ["owner_id", "created_at"] for listed in columns.values()):
            raise BenchmarkError(f"no items index leads with (owner_id, created_at): {definitions}")
        return cls(definitions, columns)

    def dropped_by(self, variant: str) -> set[str]:
        if variant == "indexed":
            return set()
        if variant == "sort index dropped":
            return {name for name, listed in self.columns.items() if listed[:2] == ["owner_id", "created_at"]}
        return set(self.definitions)  # "no owner_id index"

    def apply(self, database: Database, variant: str) -> None:
        dropped = self.dropped_by(variant)
        existing = set(database.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'items'").splitlines())
        statements = [f'DROP INDEX "{name}"' for name in sorted(dropped & existing)]
        statements += [self.definitions[name] for name in sorted(set(self.definitions) - dropped - existing)]
        if statements:
            database.sql(*statements, "ANALYZE items")


QUERY_EXECUTIONS = 10


def _explain_list_query(database: Database, executions: int) -> tuple[str, float]:
    """The plan of the list endpoint's query (same shape as the app's, literal values) and its median execution time.

    EXPLAIN ANALYZE runs the query in PostgreSQL alone, so this time leaves out the HTTP stack the load test includes.
    """
    owner = database.sql("SELECT id FROM users WHERE email = 'bench-0@example.com'")
    query = (
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM items "
        f"WHERE owner_id = '{owner}' AND status = 'open' ORDER BY created_at DESC, id DESC LIMIT 21"
    )
    output, decoder, position, plans = database.sql(*[query] * executions), json.JSONDecoder(), 0, []
    while position < len(output):
        plan, position = decoder.raw_decode(output, position)
        plans.append(plan[0])
        while position < len(output) and output[position].isspace():
            position += 1
    nodes = []
    node: dict[str, Any] | None = plans[0]["Plan"]
    while node is not None:
        index = f" using {node['Index Name']}" if "Index Name" in node else ""
        nodes.append(f"{node['Node Type']}{index}")
        node = node.get("Plans", [None])[0]
    return " > ".join(nodes), statistics.median(plan["Execution Time"] for plan in plans)


INDEX_VARIANTS = ("indexed", "sort index dropped", "no owner_id index")


def index(setup: HttpSetup) -> Report:
    small, large = setup.row_counts
    report = Report(
        "index",
        f"3. The index promise: GET {LIST_PATH} at {small:,} and {large:,} rows, with and without its indexes",
    )
    services = {rows: setup.start(1, f"items-{rows}") for rows in (small, large)}
    cookies = {rows: seed(service, rows, setup.sizes.logged_in_users) for rows, service in services.items()}
    indexes = {rows: OwnerIndexes.read(service.database) for rows, service in services.items()}
    for rows, service in services.items():
        page = _get_json(service.server, LIST_PATH, cookies[rows][0])
        if len(page["items"]) != 20 or page["next_cursor"] is None:
            raise BenchmarkError(f"the list endpoint returned {len(page['items'])} items, expected a full page of 20")
    cases = {
        (rows, variant): report.case(f"{rows:,} rows, {variant}") for rows in services for variant in INDEX_VARIANTS
    }
    for repeat in range(setup.repeats):
        for rows, variant in rotated(list(cases), repeat):
            service = services[rows]
            indexes[rows].apply(service.database, variant)
            plan, query_ms = _explain_list_query(service.database, QUERY_EXECUTIONS)
            case = cases[rows, variant]
            case.facts["plan"] = plan
            case.facts["dropped_indexes"] = sorted(indexes[rows].dropped_by(variant))
            setup.measure(case, service.server.port, LIST_PATH, cookies[rows])
            case.add("query_ms", query_ms)
    for variant in INDEX_VARIANTS:
        for metric in ("req_per_s", "p50_ms", "p99_ms", "query_ms"):
            report.ratio(f"{large:,}/{small:,} rows, {variant}", cases[large, variant], cases[small, variant], metric)
    for variant in INDEX_VARIANTS[1:]:
        for metric in ("req_per_s", "p99_ms", "query_ms"):
            report.ratio(f"{variant} / indexed, {large:,} rows", cases[large, variant], cases[large, "indexed"], metric)
    report.notes += [
        f"Each user owns {ITEMS_PER_USER} items (a third of them open); the table grows by adding users "
        f"({small // ITEMS_PER_USER:,} and {large // ITEMS_PER_USER:,}). The load rotates over the sessions of "
        f"{setup.sizes.logged_in_users} users. 'sort index dropped' removes the (owner_id, created_at, id) index, so "
        "PostgreSQL falls back to another owner_id index plus a Sort; 'no owner_id index' removes every index that "
        "leads with owner_id, leaving a Seq Scan. The index hygiene check of the generated tests fails on both plans.",
        f"HTTP setup: {setup.describe()}.",
    ]
    return report


def _logged_in(service: RunningService) -> str:
    sign_up(service.server, "bench-0@example.com")
    cookie = log_in(service.server, "bench-0@example.com")
    _get_json(service.server, "/accounts/me", cookie)
    return cookie


def middleware(setup: HttpSetup) -> Report:
    report = Report("middleware", "4. Middleware cost: the generated full stack vs a bare FastAPI app, same server")
    services = {
        backend: setup.start(1, f"middleware-{backend}", session_backend=backend)
        for backend in setup.sizes.session_backends
    }
    default = services[setup.sizes.session_backends[0]]
    bare = setup.start_bare(default.project, default.env_file)
    targets = {
        "bare FastAPI, GET /livez": (bare, "/livez", []),
        "generated app, GET /livez (middleware only)": (default.server, "/livez", []),
        "bare FastAPI, GET /me": (bare, "/me", []),
    }
    for backend, service in services.items():
        targets[f"generated app, GET /accounts/me (full stack, {backend} sessions)"] = (
            service.server,
            "/accounts/me",
            [_logged_in(service)],
        )
    cases = {label: report.case(label) for label in targets}
    for repeat in range(setup.repeats):
        for label in rotated(list(targets), repeat):
            server, path, cookies = targets[label]
            setup.measure(cases[label], server.port, path, cookies)
    bare_livez, livez, bare_case, *full_stacks = cases.values()
    report.ratio("bare / middleware only, GET /livez", bare_livez, livez, "req_per_s")
    for backend, full in zip(services, full_stacks, strict=True):
        report.ratio(f"bare / full stack, {backend} sessions", bare_case, full, "req_per_s")
        report.ratio(f"full stack / bare, {backend} sessions", full, bare_case, "p50_ms")
        report.ratio(f"full stack / bare, {backend} sessions", full, bare_case, "p99_ms")
    report.notes += [
        "The middleware is request id, JSON access log, Prometheus metrics and the body-size limit (all on /livez "
        "too). The full stack adds, on /accounts/me, resolving the session cookie in the session store (the default "
        "database store reads the session row and rewrites its idle expiry only every tenth of the idle timeout; the "
        "Redis store reads "
        "the session and resets its expiry, two Redis commands) and reading the user from PostgreSQL.",
        "The bare app logs each request through uvicorn's access log; the generated app writes its JSON access log "
        "instead. Both go to a file.",
        f"HTTP setup: {setup.describe()}.",
    ]
    return report


def floor(setup: HttpSetup) -> Report:
    small, large = setup.row_counts
    report = Report(
        "floor",
        f"6. The request path's floor: GET {LIST_PATH} on the generated app vs the same two SQL statements in an "
        "async app with a psycopg pool",
    )
    backends = setup.sizes.session_backends
    if "database" not in backends:
        raise BenchmarkError("the floor reads the database session store's table: include the database sessions")
    services = {
        (rows, backend): setup.start(1, f"floor-{rows}-{backend}", session_backend=backend)
        for rows in (small, large)
        for backend in backends
    }
    cookies = {
        (rows, backend): seed(service, rows, setup.sizes.logged_in_users)
        for (rows, backend), service in services.items()
    }
    floors = {rows: setup.start_floor(services[rows, "database"], f"floor-app-{rows}") for rows in (small, large)}
    targets: dict[str, tuple[Server, list[str]]] = {}
    for rows in (small, large):
        # The floor serves the database-session service's database and accepts that service's session cookies.
        generated, floor_cookies = services[rows, "database"], cookies[rows, "database"]
        expected = _get_json(generated.server, LIST_PATH, floor_cookies[0])
        if _get_json(floors[rows], LIST_PATH, floor_cookies[0]) != expected or len(expected["items"]) != 20:
            raise BenchmarkError(f"the floor app's page at {rows:,} rows differs from the generated app's: {expected}")
        targets[f"floor, {rows:,} rows"] = (floors[rows], floor_cookies)
        for backend in backends:
            targets[f"generated app, {backend} sessions, {rows:,} rows"] = (
                services[rows, backend].server,
                cookies[rows, backend],
            )
    cases = {label: report.case(label) for label in targets}
    for repeat in range(setup.repeats):
        for label in rotated(list(targets), repeat):
            server, session_cookies = targets[label]
            setup.measure(cases[label], server.port, LIST_PATH, session_cookies)
    for rows in (small, large):
        floor_case = cases[f"floor, {rows:,} rows"]
        for backend in backends:
            generated_case = cases[f"generated app, {backend} sessions, {rows:,} rows"]
            label = f"generated / floor, {backend} sessions, {rows:,} rows"
            for metric in ("req_per_s", "p99_ms"):
                report.ratio(label, generated_case, floor_case, metric)
    report.notes += [
        "The floor (benchmarks/floor_app.py) answers the same path with the same page (checked equal to the "
        "generated app's before measuring): the session lookup by keyed hash in user_sessions, then the user's 21 "
        "newest open items, on one autocommit connection of a psycopg 3 async pool, in an async FastAPI endpoint "
        "with no middleware and no ORM, served by the generated project's own `make serve` command and virtualenv. "
        "It runs against the database-session service's database (the Redis-session service's database has no "
        "user_sessions table and is seeded alike). Goal (issue: request path within 2x of the floor): req/s ratio "
        ">= 0.5x, p99 ratio <= 2x.",
        f"HTTP setup: {setup.describe()}.",
    ]
    return report


# A settings field that turns the phase-2 cache off, and the environment value that does it.
CACHE_SWITCHES = {"cache_enabled": "false"}


def _cache_hits(server: Server) -> float:
    """Sum of the cache-hit samples the app exports on /metrics (proof that the cache served the load)."""
    status, _, body = request("127.0.0.1", server.port, "GET", "/metrics", bearer=METRICS_TOKEN)
    if status != 200:
        raise BenchmarkError(f"GET /metrics answered {status}")
    total = 0.0
    for line in body.decode().splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if not line.startswith("#") and "cache" in name and 'result="hit"' in line and name.endswith("_total"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def cache(setup: HttpSetup) -> Report:
    # The large table size of the run caps the summary's items: smoke mode stays quick.
    items_per_user = min(SUMMARY_ITEMS_PER_USER, setup.row_counts[1])
    report = Report(
        "cache", f"5. Phase 2: cached GET {SUMMARY_PATH} (over {items_per_user:,} items) vs the same endpoint uncached"
    )
    # A feature declares its settings in its own module (the cache's in adapters/cache.py): read them all.
    package = setup.project(2).root / "src" / PROJECT_SLUG
    modules = "\n".join(module.read_text(encoding="utf-8") for module in sorted(package.rglob("*.py")))
    fields = re.findall(r"^    (cache_\w+):", modules, re.MULTILINE)
    if not fields:
        report.not_measurable = (
            "the phase-2 project generated from this checkout has no cache settings (no cache_* settings field in "
            "its package), so there is no cached endpoint to measure yet"
        )
        return report
    switch = next((field for field in CACHE_SWITCHES if field in fields), None)
    services: dict[str, RunningService] = {}
    for backend in setup.sizes.session_backends:
        services[f"phase 2, cached, {backend} sessions"] = setup.start(2, f"cache-{backend}", session_backend=backend)
        if switch is not None:
            baseline = f"phase 2, {switch.upper()}={CACHE_SWITCHES[switch]}, {backend} sessions"
            overrides = {switch.upper(): CACHE_SWITCHES[switch]}
            services[baseline] = setup.start(2, f"nocache-{backend}", session_backend=backend, overrides=overrides)
        else:
            baseline = f"phase 1 (no cache layer), {backend} sessions"
            services[baseline] = setup.start(1, f"nocache-{backend}", session_backend=backend)
    users = setup.sizes.logged_in_users
    cookies = {
        label: seed(service, users * items_per_user, users, items_per_user) for label, service in services.items()
    }
    for label, service in services.items():
        summary = _get_json(service.server, SUMMARY_PATH, cookies[label][0])
        if summary["total"] != items_per_user:
            raise BenchmarkError(f"{label}: the summary counts {summary['total']} items, expected {items_per_user}")
    cases = {label: report.case(f"{label}, summary") for label in services}
    for repeat in range(setup.repeats):
        for label in rotated(list(cases), repeat):
            setup.measure(cases[label], services[label].server.port, SUMMARY_PATH, cookies[label])
    labels = list(services)
    for cached_label, baseline_label in zip(labels[0::2], labels[1::2], strict=True):
        hits = _cache_hits(services[cached_label].server)
        cases[cached_label].facts["cache_hits_on_metrics"] = hits
        if hits <= 0:
            raise BenchmarkError(f"{cached_label}: /metrics counts no cache hits, so the cache did not serve the load")
        backend = cached_label.rsplit(", ", 1)[1]
        cached, uncached = cases[cached_label], cases[baseline_label]
        report.ratio(f"cached / uncached, summary, {backend}", cached, uncached, "req_per_s")
        report.ratio(f"uncached / cached, summary, {backend}", uncached, cached, "p99_ms")
    report.notes += [
        f"Every service has its own database seeded alike: {users} users owning {items_per_user:,} items each, "
        "created an hour apart. The summary counts all of a user's items by status, priority "
        "and week (one grouped query that reads every item). The load rotates over the "
        f"{users} users' sessions, so after the first request per user every request is a cache hit "
        "(the hit count from /metrics is in the JSON). Goal (issue: cache where it matters): the cached summary "
        ">= 5x the uncached one's req/s. The list is not cached: its page costs less than the cache's Redis round "
        "trips (the floor benchmark measures it).",
        f"HTTP setup: {setup.describe()}.",
    ]
    if switch is None:
        report.notes.append(
            "The phase-2 app has no setting that turns its cache off (CACHE_TTL_SECONDS must be >= 1), so the "
            "uncached baseline is the phase-1 build of the same endpoints and queries. That build also lacks phase "
            "2's other per-request work (e.g. the primary-pin check), so the ratios understate the cache's own gain."
        )
    return report
