"""Copier migration of release 0.2.0: a team's edits follow the modules this release moved.

Release 0.2.0 moved modules into `adapters/` and `observability/`. Left to itself, Copier's update
deletes a moved module at its old path (with the team's edits in it) and writes the new path fresh.
Run by copier.yml's `_migrations` in the project being updated, with the stage as argument:

- before: render the project's recorded template version (its recorded answers) into a scratch
  directory and, for each moved module the team edited, keep the pristine text and the team's
  text under the git directory;
- after: three-way merge each kept module into its new path (base: the pristine old text, ours:
  the new template's text, theirs: the team's), leaving conflict markers where both changed the
  same lines, which phaseup reports as conflicts.

Team modules added next to a moved one stay where they are. It runs under the Python that runs
Copier, so it uses only the standard library, Copier and Copier's PyYAML.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import copier
import yaml

ANSWERS_FILE = ".copier-answers.yml"
# Old path -> new path, under src/<project_slug>/, of every module release 0.2.0 moved.
MOVED_IN_0_2_0 = {
    "storage.py": "adapters/storage.py",
    "sessions/__init__.py": "adapters/user_sessions/__init__.py",
    "sessions/database.py": "adapters/user_sessions/database.py",
    "sessions/redis.py": "adapters/user_sessions/redis.py",
    "cache.py": "adapters/cache.py",
    "jobs.py": "adapters/jobs.py",
    "mail.py": "adapters/mail.py",
    "cdn.py": "adapters/cdn.py",
    "assets.py": "adapters/assets.py",
    "static/site.css": "adapters/static/site.css",
    "static/logo.svg": "adapters/static/logo.svg",
    "log.py": "observability/logs.py",
    "metrics.py": "observability/metrics.py",
    "collectors.py": "observability/collectors.py",
}


def state_dir() -> Path:
    """Where the stages hand over, inside the git directory: never part of the work tree."""
    path = subprocess.run(
        ["git", "rev-parse", "--git-path", "phaseup-moved-files"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return Path(path).resolve()


def render_recorded_version(answers: dict[str, object], destination: Path) -> None:
    copier.run_copy(
        os.path.expanduser(str(answers["_src_path"])),
        destination,
        data={key: value for key, value in answers.items() if not key.startswith("_")},
        vcs_ref=str(answers["_commit"]),
        defaults=True,
        unsafe=True,
        quiet=True,
    )


def before() -> None:
    # Copier has not loaded the answers at this stage: read the ones the project recorded.
    answers = yaml.safe_load(Path(ANSWERS_FILE).read_text(encoding="utf-8"))
    package = Path("src") / str(answers["project_slug"])
    kept = state_dir()
    shutil.rmtree(kept, ignore_errors=True)
    moves = []
    with tempfile.TemporaryDirectory() as scratch:
        pristine_root = Path(scratch) / "project"
        render_recorded_version(answers, pristine_root)
        for number, (old, new) in enumerate(MOVED_IN_0_2_0.items()):
            team, pristine = package / old, pristine_root / package / old
            if not team.is_file() or not pristine.is_file() or team.read_bytes() == pristine.read_bytes():
                continue  # not in this project, or unedited: the update moves it as it is
            (kept / str(number)).mkdir(parents=True)
            shutil.copyfile(pristine, kept / str(number) / "base")
            shutil.copyfile(team, kept / str(number) / "team")
            moves.append({"number": number, "old": str(package / old), "new": str(package / new)})
    if moves:
        (kept / "moves.json").write_text(json.dumps(moves), encoding="utf-8")


def after() -> None:
    kept = state_dir()
    index = kept / "moves.json"
    if not index.is_file():
        return
    for move in json.loads(index.read_text(encoding="utf-8")):
        new, saved = Path(move["new"]), kept / str(move["number"])
        if not new.is_file():
            # The new template has no such module here (the team deleted it?): keep the team's text.
            new.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(saved / "team", new)
            continue
        labels = ["-L", "after updating", "-L", "before updating", "-L", f"your {move['old']}"]
        subprocess.run(
            ["git", "merge-file", *labels, str(new), str(saved / "base"), str(saved / "team")],
            check=False,  # exit status = number of conflicts; the markers are what phaseup reports
        )
    shutil.rmtree(kept)


if __name__ == "__main__":
    before() if sys.argv[1] == "before" else after()
