"""`phaseup check`: fresh projects pass, each mutation fails exactly its check at the right place, the CLI's exit
codes and JSON, and the live mode against a real running generated app under load.

Projects are rendered once per phase for the module and copied for each test; the live test installs one phase-2
project (slow: an xdist group of its own, marked e2e) and runs it with a throwaway database, Redis and moto's S3.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import generator.template_source as template_source
from generator import __version__
from generator.check import check_project, load_thresholds
from generator.check_live import DEFAULT_THRESHOLDS
from generator.cli import app
from generator.new import create_project
from tests.conftest import REPO_ROOT, run

runner = CliRunner()
PHASES = (1, 2, 3)
SLUG = "shop"


@pytest.fixture(scope="module", autouse=True)
def _tagged_template() -> Iterator[None]:
    """Render and compare as the installed wheel does, from a tagged repository of this checkout's template (its
    uncommitted edits included), so the recorded version is a release the drift comparison can render again."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(template_source, "BUNDLE_DIR", REPO_ROOT)
        yield


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """One fresh project per phase (database sessions; GitHub CI at phases 1 and 3, GitLab at 2)."""
    projects = {}
    for phase in PHASES:
        destination = tmp_path_factory.mktemp(f"check-phase{phase}") / SLUG
        ci = "gitlab" if phase == 2 else "github"
        data = {"project_name": "Shop", "session_backend": "database", "ci": ci}
        create_project(destination, phase=phase, data=data, defaults=True, git=False)
        projects[phase] = destination
    return projects


@pytest.fixture
def copy_of(rendered: dict[int, Path], tmp_path: Path) -> Callable[[int], Path]:
    def copy(phase: int) -> Path:
        return Path(shutil.copytree(rendered[phase], tmp_path / f"phase{phase}" / SLUG))

    return copy


def statuses(project: Path, **options: object) -> dict[str, tuple[str, str, str | None]]:
    report = check_project(project, drift=False, **options)  # type: ignore[arg-type]
    return {finding.id: (finding.status, finding.message, finding.location) for finding in report.checks}


@pytest.mark.parametrize("phase", PHASES)
def test_a_fresh_project_passes_every_check(rendered: dict[int, Path], phase: int) -> None:
    report = check_project(rendered[phase])
    results = {finding.id: finding for finding in report.checks}

    not_passing = {check: f.message for check, f in results.items() if f.status != "pass"}
    # Without the project's virtualenv there is no Alembic to render the SQL: squawk's check says it skipped.
    assert not_passing.pop("migrations-sql-lint").startswith("skipped: ")
    assert not_passing == {"template-drift": "no file differs from what the template rendered"}
    assert report.drift is not None and report.drift.changed == report.drift.deleted == []
    features = {check.removeprefix("feature-") for check in results if check.startswith("feature-")}
    assert features == set(report.features)


@dataclass(frozen=True)
class Mutation:
    check: str
    phase: int
    mutate: Callable[[Path], str]  # edits the project, returns the location the check must report


def _append(project: Path, name: str, text: str) -> str:
    """Append `text` to the file; returns the location of its line marked `# <-`."""
    path = project / name
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    return f"{name}:{_line_of(project, name, '# <-')}"


def _line_of(project: Path, name: str, needle: str) -> int:
    lines = (project / name).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def _replace(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def settings_read_in_a_service(project: Path) -> str:
    return _append(project, f"src/{SLUG}/services/items.py", '\nimport os\n\nPAGE = os.environ.get("PAGE")  # <-\n')


def settings_read_through_an_alias(project: Path) -> str:
    return _append(project, f"src/{SLUG}/db/engines.py", '\nfrom os import environ as env\n\nX = env["X"]  # <-\n')


def disk_write_in_a_service(project: Path) -> str:
    return _append(
        project,
        f"src/{SLUG}/services/attachments.py",
        "\n\ndef spill(data: bytes) -> None:\n"
        '    with open("spill.bin", "wb") as file:  # <-\n'
        "        file.write(data)\n",
    )


def temp_file_in_an_adapter(project: Path) -> str:
    return _append(
        project,
        f"src/{SLUG}/adapters/storage.py",
        "\nimport tempfile\n\nSCRATCH = tempfile.mkdtemp()  # <-\n",
    )


def path_write_in_the_api(project: Path) -> str:
    return _append(
        project, f"src/{SLUG}/api/items.py", '\nfrom pathlib import Path\n\nPath("x.txt").write_text("x")  # <-\n'
    )


def first_revision(project: Path) -> str:
    return next((project / "migrations" / "versions").glob("0001_*.py")).relative_to(project).as_posix()


def empty_downgrade(project: Path) -> str:
    name = first_revision(project)
    text = (project / name).read_text(encoding="utf-8")
    start = text.index("def downgrade() -> None:\n")
    (project / name).write_text(text[:start] + "def downgrade() -> None:\n    pass\n", encoding="utf-8")
    return f"{name}:{_line_of(project, name, 'def downgrade')}"


def second_head(project: Path) -> str:
    name = "migrations/versions/0099_orders.py"
    (project / name).write_text(
        '"""Orders."""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\nrevision = "0099"\n'
        'down_revision = "0001"\n\n\ndef upgrade() -> None:\n    op.add_column("items", sa.Column("x", sa.Text()))\n'
        '\n\ndef downgrade() -> None:\n    op.drop_column("items", "x")\n',
        encoding="utf-8",
    )
    return name


def layer_contract_removed(project: Path) -> str:
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    start = text.index('[[tool.importlinter.contracts]]\nname = "HTTP layer')
    end = text.index("[[tool.importlinter.contracts]]", start + 1)
    (project / "pyproject.toml").write_text(text[:start] + text[end:], encoding="utf-8")
    return f"pyproject.toml:{_line_of(project, 'pyproject.toml', '[[tool.importlinter.contracts]]')}"


def index_check_disabled(project: Path) -> str:
    _replace(
        project,
        "tests/conftest.py",
        '@pytest.fixture(scope="session", autouse=True)\ndef _fail_on_unindexed_queries',
        '@pytest.fixture(scope="session")\ndef _fail_on_unindexed_queries',
    )
    return f"tests/conftest.py:{_line_of(project, 'tests/conftest.py', 'def _fail_on_unindexed_queries')}"


def sessions_in_a_dict(project: Path) -> str:
    return _append(
        project,
        f"src/{SLUG}/adapters/user_sessions/database.py",
        "\n_LAST_SEEN: dict[str, float] = {}  # <-\n",
    )


def ci_without_tests(project: Path) -> str:
    name = ".github/workflows/ci.yml"
    _replace(project, name, "      - run: make test\n", "")
    return f"{name}:1"


def restore_drill_removed(project: Path) -> str:
    (project / "tests" / "test_backup.py").unlink()
    return "tests"


def cache_unplugged(project: Path) -> str:
    name = f"src/{SLUG}/features/enabled.py"
    _replace(project, name, "    cache_feature,\n", "")
    return f"{name}:{_line_of(project, name, 'ENABLED_FEATURES: list')}"


def worker_service_removed(project: Path) -> str:
    compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
    del compose["services"]["worker"]
    (project / "compose.yaml").write_text(yaml.safe_dump(compose, sort_keys=False), encoding="utf-8")
    return f"compose.yaml:{_line_of(project, 'compose.yaml', 'services:')}"


def replica_setting_undocumented(project: Path) -> str:
    _replace(project, ".env.example", "\nPRIMARY_PIN_SECONDS=5\n", "\n")
    return ".env.example"


def pooler_migrating_through_the_pooler(project: Path) -> str:
    """The compose app's DATABASE_MIGRATION_URL set to its pooled DATABASE_URL."""
    compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
    # A copy: the app's environment is the YAML anchor every container built from the Dockerfile shares.
    environment = dict(compose["services"]["app"]["environment"])
    environment["DATABASE_MIGRATION_URL"] = environment["DATABASE_URL"]
    compose["services"]["app"]["environment"] = environment
    (project / "compose.yaml").write_text(yaml.safe_dump(compose, sort_keys=False), encoding="utf-8")
    return f"compose.yaml:{_line_of(project, 'compose.yaml', '  app:')}"


def worker_without_rabbitmq_url(project: Path) -> str:
    """The compose worker loses RABBITMQ_URL, a required setting: it would not start."""
    compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
    environment = dict(compose["services"]["worker"]["environment"])  # a copy of the shared anchor
    del environment["RABBITMQ_URL"]
    compose["services"]["worker"]["environment"] = environment
    (project / "compose.yaml").write_text(yaml.safe_dump(compose, sort_keys=False), encoding="utf-8")
    return f"compose.yaml:{_line_of(project, 'compose.yaml', '  worker:')}"


MUTATIONS = [
    Mutation("settings-only-from-environment", 1, settings_read_in_a_service),
    Mutation("settings-only-from-environment", 1, settings_read_through_an_alias),
    Mutation("no-local-disk-writes", 1, disk_write_in_a_service),
    Mutation("no-local-disk-writes", 2, temp_file_in_an_adapter),
    Mutation("no-local-disk-writes", 1, path_write_in_the_api),
    Mutation("migrations-reversible", 1, empty_downgrade),
    Mutation("migrations-one-head", 1, second_head),
    Mutation("import-layers", 1, layer_contract_removed),
    Mutation("index-check", 2, index_check_disabled),
    Mutation("sessions-not-in-memory", 1, sessions_in_a_dict),
    Mutation("ci-runs-tests", 1, ci_without_tests),
    Mutation("backup-restore-test", 2, restore_drill_removed),
    Mutation("feature-cache", 2, cache_unplugged),
    Mutation("feature-jobs", 2, worker_service_removed),
    Mutation("feature-replica", 2, replica_setting_undocumented),
    Mutation("feature-pooler", 3, pooler_migrating_through_the_pooler),
    Mutation("feature-rabbitmq", 3, worker_without_rabbitmq_url),
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.mutate.__name__ for m in MUTATIONS])
def test_a_mutation_fails_exactly_its_check_at_its_place(copy_of: Callable[[int], Path], mutation: Mutation) -> None:
    project = copy_of(mutation.phase)
    before = {check for check, (status, _, _) in statuses(project).items() if status == "fail"}
    location = mutation.mutate(project)

    after = statuses(project)
    failing = {check for check, (status, _, _) in after.items() if status == "fail"}

    assert failing - before - {mutation.check} == set(), after
    assert after[mutation.check][0] == "fail"
    assert after[mutation.check][2] == location, after[mutation.check]
    assert mutation.check not in before


def test_a_project_generated_without_ci_gets_a_warning_not_a_failure(copy_of: Callable[[int], Path]) -> None:
    project = copy_of(1)
    shutil.rmtree(project / ".github")
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text(encoding="utf-8").replace("ci: github", "ci: none"), encoding="utf-8")

    status, message, _ = statuses(project)["ci-runs-tests"]

    assert (status, message.split(":")[0]) == ("warn", "no CI")
    assert not check_project(project, drift=False).failed


def test_the_generated_ci_runs_the_release_that_generated_it(rendered: dict[int, Path]) -> None:
    """Rendered from a release tag, the pipelines pin that release, overridable by PHASEUP_REQUIREMENT."""
    pinned = f"phaseup=={__version__}"
    github = yaml.safe_load((rendered[1] / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    gitlab = yaml.safe_load((rendered[2] / ".gitlab-ci.yml").read_text(encoding="utf-8"))

    job = github["jobs"]["phaseup-check"]
    assert job["env"]["PHASEUP_REQUIREMENT"] == f"${{{{ vars.PHASEUP_REQUIREMENT || '{pinned}' }}}}"
    assert [step.get("run") for step in job["steps"]][-2:] == [
        "uv sync",
        'uvx --from "$PHASEUP_REQUIREMENT" phaseup check',
    ]
    assert gitlab["variables"]["PHASEUP_REQUIREMENT"] == pinned
    assert gitlab["phaseup-check"]["script"] == ['uvx --from "$PHASEUP_REQUIREMENT" phaseup check']
    assert "uv sync" in gitlab["default"]["before_script"]
    for project in (rendered[1], rendered[2]):
        assert "phaseup" not in (project / "pyproject.toml").read_text(encoding="utf-8"), "not a dependency"


def test_allowed_environment_copies_and_test_code_are_not_flagged(copy_of: Callable[[int], Path]) -> None:
    """ops/backup.py hands pg_dump the whole environment (dict(os.environ)); tests may read and write what they like."""
    project = copy_of(1)
    assert "dict(os.environ)" in (project / "src" / SLUG / "ops" / "backup.py").read_text(encoding="utf-8")
    _append(project, "tests/test_items.py", '\nimport os\n\nX = os.environ.get("X")  # <-\nopen("x", "w")\n')

    results = statuses(project)

    assert results["settings-only-from-environment"][0] == "pass"
    assert results["no-local-disk-writes"][0] == "pass"


def test_a_module_that_does_not_parse_fails_the_checks_reading_it_there(copy_of: Callable[[int], Path]) -> None:
    project = copy_of(1)
    location = _append(project, f"src/{SLUG}/services/items.py", "\ndef broken(:  # <-\n")

    results = statuses(project)

    for check in ("settings-only-from-environment", "no-local-disk-writes"):
        assert results[check][0] == "fail"
        assert results[check][2] == location
        assert "does not parse" in results[check][1]


def test_template_drift_lists_the_files_the_team_changed_and_deleted(copy_of: Callable[[int], Path]) -> None:
    project = copy_of(1)
    _append(project, "README.md", "\nOur own notes.  # <-\n")
    (project / "Dockerfile").unlink()
    (project / "NOTES.md").write_text("ours\n", encoding="utf-8")  # the team's own file is not drift

    report = check_project(project)
    drift = next(finding for finding in report.checks if finding.id == "template-drift")

    assert report.drift is not None
    assert (report.drift.changed, report.drift.deleted) == (["README.md"], ["Dockerfile"])
    assert drift.status == "info" and "README.md" in drift.message and "Dockerfile" in drift.message
    assert not report.failed


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", *args], prog_name="phaseup")
    return result.exit_code, result.stdout, result.stderr


def test_exit_codes_and_the_json_object(copy_of: Callable[[int], Path]) -> None:
    project = copy_of(2)
    code, out, err = invoke("-C", str(project), "--format", "json", "--no-drift")
    document = json.loads(out)

    assert code == 0, err
    assert set(document) == {"schema", "project", "root", "phase", "features", "ok", "checks", "drift"}
    assert (document["schema"], document["project"], document["phase"], document["ok"]) == (1, "Shop", 2, True)
    assert all(set(check) == {"id", "status", "message", "location"} for check in document["checks"])
    assert {check["status"] for check in document["checks"]} <= {"pass", "warn", "fail", "info"}

    location = cache_unplugged(project)
    code, out, _ = invoke("-C", str(project), "--no-drift")
    assert code == 1
    assert re.search(rf"^  FAIL  feature-cache +.*\[{re.escape(location)}\]$", out, flags=re.MULTILINE), out
    assert ", 1 fail, " in out.rstrip().splitlines()[-1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--format", "yaml"], "Invalid value for '--format'"),
        (["--window", "-1"], "Invalid value for '--window'"),
    ],
)
def test_a_malformed_command_line_exits_2(arguments: list[str], message: str) -> None:
    code, out, err = invoke(*arguments)
    assert code == 2
    assert message in out + err


def test_usage_errors_exit_2_with_one_line(
    rendered: dict[int, Path], copy_of: Callable[[int], Path], tmp_path: Path
) -> None:
    code, _, err = invoke("-C", str(tmp_path))
    assert (code, err.count("\n")) == (2, 1)
    assert "is not a phaseup project" in err

    project = copy_of(1)
    _append(project, "pyproject.toml", "\n[tool.phaseup.check]\np99_latency = 1  # <-\n")
    code, _, err = invoke("-C", str(project), "--no-drift")
    assert (code, err.count("\n")) == (2, 1)
    assert "[tool.phaseup.check] has no setting 'p99_latency'" in err

    port = free_port()
    code, _, err = invoke("-C", str(rendered[1]), "--no-drift", "--url", f"http://127.0.0.1:{port}")
    assert (code, err.count("\n")) == (2, 1)
    assert f"cannot reach http://127.0.0.1:{port}/readyz" in err


def test_thresholds_come_from_pyproject(copy_of: Callable[[int], Path]) -> None:
    project = copy_of(1)
    assert load_thresholds(project) == DEFAULT_THRESHOLDS
    _append(project, "pyproject.toml", "\n[tool.phaseup.check]\np99_latency_seconds = 0.25  # <-\n")
    assert load_thresholds(project) == {**DEFAULT_THRESHOLDS, "p99_latency_seconds": 0.25}


def test_the_console_script_exits_1_on_a_failed_check(copy_of: Callable[[int], Path]) -> None:
    project = copy_of(1)
    location = empty_downgrade(project)
    result = subprocess.run(
        [sys.executable, "-m", "generator", "check", "-C", str(project), "--no-drift"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert f"[{location}]" in result.stdout
    assert "Traceback" not in result.stderr


# --- the live mode, against a real running phase-2 app ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def psql(statement: str) -> None:
    run(["psql", "--no-psqlrc", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", statement], cwd=REPO_ROOT)


def project_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args} exited {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout} s")


@dataclass(frozen=True)
class LiveApp:
    project: Path
    url: str
    token: str
    users: tuple[str, ...]  # session cookies of users signed in beforehand, so the load starts at once


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """A phase-2 project, installed, migrated into a throwaway database and served by uvicorn, with moto's S3
    server and the machine's Redis; everything is stopped and dropped afterwards."""
    project = tmp_path_factory.mktemp("check-live") / SLUG
    data = {"project_name": "Shop", "session_backend": "database", "ci": "github"}
    create_project(project, phase=2, data=data, defaults=True, git=False)
    run(["uv", "sync", "--quiet"], cwd=project, env=project_env())
    database = f"phaseup_check_{secrets.token_hex(6)}"
    token = secrets.token_urlsafe(24)
    s3_port, app_port = free_port(), free_port()
    env = {
        **project_env(),
        "ENVIRONMENT": "development",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "REDIS_KEY_PREFIX": f"{database}:",
        "CELERY_QUEUE": database,
        "S3_BUCKET": "check-live",
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "METRICS_TOKEN": token,
        "LOG_LEVEL": "WARNING",
        "SIGNUP_RATE_LIMIT_ATTEMPTS": "1000",
    }
    bin_dir = project / ".venv" / "bin"
    processes: list[subprocess.Popen[bytes]] = []
    log = (project.parent / "uvicorn.log").open("wb")
    psql(f'CREATE DATABASE "{database}"')
    try:
        run([str(bin_dir / "alembic"), "upgrade", "head"], cwd=project, env=env)
        moto = subprocess.Popen(
            [str(bin_dir / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        processes.append(moto)
        wait_until_up(f"http://127.0.0.1:{s3_port}/", moto)
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{s3_port}/check-live", method="PUT"))
        server = subprocess.Popen(
            [
                str(bin_dir / "uvicorn"),
                "--factory",
                f"{SLUG}.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(app_port),
                "--no-access-log",
            ],
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        processes.append(server)
        wait_until_up(f"http://127.0.0.1:{app_port}/livez", server)
        url = f"http://127.0.0.1:{app_port}"
        yield LiveApp(project=project, url=url, token=token, users=tuple(signed_in(url, number) for number in range(4)))
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
        psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def request(url: str, method: str = "GET", body: object = None, cookie: str = "") -> tuple[int, dict[str, str]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def signed_in(url: str, number: int) -> str:
    """A new user's session cookie."""
    credentials = {"email": f"load{number}-{secrets.token_hex(4)}@example.com", "password": "a long passphrase 1"}
    assert request(f"{url}/accounts/signup", "POST", credentials)[0] == 201
    status, headers = request(f"{url}/accounts/login", "POST", credentials)
    assert status == 200
    return headers["set-cookie"].split(";")[0]


def load_while(running: Callable[[], bool], live: LiveApp, most: int = 20_000) -> int:
    """Each of the app's users creates an item, then lists their items and reads their summary (the cached read in
    phase 2) in turn while `running()` and at most `most` times (a bounded load, which lasts the whole window on any
    machine); returns the number of requests sent."""

    def user(cookie: str) -> int:
        assert request(f"{live.url}/items", "POST", {"title": "load"}, cookie)[0] == 201
        sent = 1
        while running() and sent < most:
            path = "/items/summary" if sent % 2 == 0 else "/items"
            assert request(f"{live.url}{path}", cookie=cookie)[0] == 200
            sent += 1
        return sent

    with ThreadPoolExecutor(len(live.users)) as pool:
        return sum(pool.map(user, live.users))


def check_live(live: LiveApp, *extra: str) -> tuple[int, str, str]:
    """`phaseup check --url` in a real subprocess (METRICS_TOKEN from the environment), under load while it runs."""
    command = [
        sys.executable,
        "-m",
        "generator",
        "check",
        "-C",
        str(live.project),
        "--no-drift",
        "--url",
        live.url,
        *extra,
    ]
    env = {**os.environ, "METRICS_TOKEN": live.token}
    checker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sent = load_while(lambda: checker.poll() is None, live)
    out, err = checker.communicate(timeout=300)
    assert sent > 50, "the load ran while phaseup watched"
    return checker.returncode, out, err


def check_live_json(live: LiveApp, *extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = check_live(live, *extra, "--format", "json")
    return code, json.loads(out) if out.strip() else {}, err


def signals_under_load(live_app: LiveApp) -> None:
    code, document, err = check_live_json(live_app, "--window", "8")

    assert code == 0, err
    signals = {(signal["id"], signal["subject"]): signal for signal in document["signals"]}
    assert signals[("request_rate", None)]["value"] > 0
    for quantile in ("p95_latency_seconds", "p99_latency_seconds"):
        assert 0 < signals[(quantile, "GET /items")]["value"] < 10
        assert signals[(quantile, "GET /items")]["threshold"] == DEFAULT_THRESHOLDS[quantile]
    assert not any(subject in {"GET /metrics", "GET /readyz"} for _, subject in signals), "probes are not traffic"
    assert signals[("error_rate", None)]["value"] == 0
    assert {("pool_saturation", "writer"), ("pool_saturation", "reader")} <= set(signals)
    assert signals[("replica_lag_seconds", None)]["value"] == 0  # no replica: the reader is the primary
    assert signals[("queue_depth", None)]["value"] >= 0  # the welcome mails wait for a worker that is not running
    assert ("cache_hit_ratio", None) in signals, document  # the summaries go through the cache
    assert 0 <= signals[("cache_hit_ratio", None)]["value"] <= 1
    assert document["readiness"]["status"] == "ok"
    assert {"id": "service-ready", "status": "pass"}.items() <= next(
        check for check in document["checks"] if check["id"] == "service-ready"
    ).items()
    breached = {(signal["id"], signal["subject"]) for signal in document["signals"] if signal["breached"]}
    recommendation = document["recommendation"]
    assert {(signal["id"], signal["subject"]) for signal in recommendation["triggered_by"]} == breached
    assert recommendation["action"] == ("next-phase" if breached else "stay"), recommendation


# Thresholds no signal of this small load reaches.
LOOSE = {
    "request_rate": 1e6,
    "p95_latency_seconds": 100,
    "p99_latency_seconds": 100,
    "error_rate": 1,
    "pool_saturation": 1,
    "cache_hit_ratio": 0,
    "min_requests": 1,
}


def thresholds_change_the_recommendation(live_app: LiveApp) -> None:
    pyproject = live_app.project / "pyproject.toml"
    original = pyproject.read_text(encoding="utf-8")

    def check_with(thresholds: dict[str, float]) -> dict[str, Any]:
        table = "".join(f"{key} = {value!r}\n" for key, value in thresholds.items())
        pyproject.write_text(f"{original}\n[tool.phaseup.check]\n{table}", encoding="utf-8")
        try:
            code, document, err = check_live_json(live_app, "--window", "6")
        finally:
            pyproject.write_text(original, encoding="utf-8")
        assert code == 0, err
        return dict(document["recommendation"])

    loose = check_with(LOOSE)
    strict_p99 = check_with({**LOOSE, "p99_latency_seconds": 0.000001})

    assert (loose["action"], loose["phase"], loose["triggered_by"]) == ("stay", 2, [])
    assert loose["message"] == "stay at phase 2: every signal is within its threshold"
    assert (strict_p99["action"], strict_p99["phase"]) == ("next-phase", 3)
    assert strict_p99["message"].startswith("phase 3 is due: p99_latency_seconds GET /items is ")
    assert {trigger["id"] for trigger in strict_p99["triggered_by"]} == {"p99_latency_seconds"}
    assert all(trigger["threshold"] == 0.000001 for trigger in strict_p99["triggered_by"])


def a_text_table(live_app: LiveApp) -> None:
    code, out, err = check_live(live_app, "--window", "6", "--format", "text")

    assert code == 0, err
    lines = out.splitlines()
    assert any(re.fullmatch(r"signals of http://127\.0\.0\.1:\d+ over [\d.]+ s:", line) for line in lines), out
    assert any(
        re.fullmatch(r"  p99_latency_seconds GET /items +[\d.]+ m?s  \(threshold 1 s\)( +<-- over)?", line)
        for line in lines
    ), out
    assert any(line.startswith("recommendation: ") for line in lines)
    assert re.search(r"^  PASS  service-ready +/readyz answers 200", out, flags=re.MULTILINE)


def metrics_need_the_token(live_app: LiveApp) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "check",
            "-C",
            str(live_app.project),
            "--no-drift",
            "--url",
            live_app.url,
            "--window",
            "0",
        ],
        env={key: value for key, value in os.environ.items() if key != "METRICS_TOKEN"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"phaseup: error: {live_app.url}/metrics wants METRICS_TOKEN: pass it with --metrics-token or $METRICS_TOKEN"
    )


def squawk_flags_a_locking_migration(live_app: LiveApp) -> None:
    project = live_app.project
    assert statuses(project)["migrations-sql-lint"][0] == "pass"
    heads = [path for path in (project / "migrations" / "versions").glob("0005_*.py")]
    name = "migrations/versions/0099_title_index.py"
    (project / name).write_text(
        f'"""Index item titles."""\n\nfrom alembic import op\n\nrevision = "0099"\n'
        f'down_revision = "{heads[0].name.split("_")[0]}"\n\n\ndef upgrade() -> None:\n'
        '    op.create_index("ix_items_title", "items", ["title"])\n\n\ndef downgrade() -> None:\n'
        '    op.drop_index("ix_items_title", table_name="items")\n',
        encoding="utf-8",
    )
    try:
        status, message, location = statuses(project)["migrations-sql-lint"]
    finally:
        (project / name).unlink()
    assert (status, location) == ("fail", name)
    assert "require-concurrent-index-creation" in message or "squawk" in message


@pytest.mark.e2e
@pytest.mark.xdist_group("check-live")
def test_live_mode_against_a_running_phase_2_app(live_app: LiveApp) -> None:
    """One test, so the app runs once whichever worker the scheduler picks; each step asserts its own part."""
    signals_under_load(live_app)
    a_text_table(live_app)
    thresholds_change_the_recommendation(live_app)
    metrics_need_the_token(live_app)
    squawk_flags_a_locking_migration(live_app)
