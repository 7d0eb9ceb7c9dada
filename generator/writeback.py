"""Writing a merged result back into the user's work tree: in the line endings it uses, one atomic file at a time.

The merge runs on LF text in a scratch clone. Each text file goes back with the line endings it has in the user's
work tree (a CRLF checkout stays CRLF), and a new file gets the ones git would give it on checkout there. All reading
and converting happens before the write, so the write itself is short: temp file + rename per file, deletions last.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.git import git

CRLF, LF = b"\r\n", b"\n"


@dataclass(frozen=True)
class FileWrite:
    """One path of the work tree to replace (content or link target) or to delete (neither)."""

    path: str
    content: bytes | None = None
    mode: int = 0o644
    link_target: str | None = None


def _is_text(data: bytes) -> bool:
    return b"\0" not in data[:8000]  # git's own test


def _line_ending_of(data: bytes) -> bytes | None:
    """The line ending a file mostly uses; None when it has no line break or is binary."""
    if not _is_text(data):
        return None
    crlf = data.count(CRLF)
    lf = data.count(LF) - crlf
    if not crlf and not lf:
        return None
    return CRLF if crlf > lf else LF


def with_line_ending(data: bytes, ending: bytes | None) -> bytes:
    """`data` (LF text from the merge) with every line break turned into `ending`."""
    if ending is None or not _is_text(data):
        return data
    normalised = data.replace(CRLF, LF)
    return normalised if ending == LF else normalised.replace(LF, CRLF)


def checkout_line_endings(live: Path, paths: list[str]) -> dict[str, bytes]:
    """The line ending git would check each new path out with in `live` (its config and .gitattributes)."""
    if not paths:
        return {}
    autocrlf = git(live, "config", "--get", "core.autocrlf", check=False).strip().lower()
    core_eol = git(live, "config", "--get", "core.eol", check=False).strip().lower()
    fields = git(live, "check-attr", "-z", "text", "eol", "--", *paths).split("\0")
    attributes: dict[str, dict[str, str]] = {}
    for path, name, value in zip(fields[0::3], fields[1::3], fields[2::3], strict=False):
        attributes.setdefault(path, {})[name] = value
    endings: dict[str, bytes] = {}
    for path in paths:
        text, eol = attributes.get(path, {}).get("text", ""), attributes.get(path, {}).get("eol", "")
        if text == "unset" or eol == "lf" or autocrlf == "input":
            endings[path] = LF
        elif eol == "crlf" or autocrlf == "true" or (text in {"set", "auto"} and core_eol == "crlf"):
            endings[path] = CRLF
        else:
            endings[path] = LF
    return endings


def prepare_writes(clone: Path, live: Path, upserts: list[str], deletions: list[str]) -> list[FileWrite]:
    """Read every file to write from `clone` and give it `live`'s line endings; deletions come last."""
    new_paths = [path for path in upserts if not (live / path).is_file()]
    for_new = checkout_line_endings(live, new_paths)
    writes: list[FileWrite] = []
    for path in upserts:
        source = clone / path
        if source.is_symlink():
            writes.append(FileWrite(path, link_target=os.readlink(source)))
            continue
        current = live / path
        ending = _line_ending_of(current.read_bytes()) if path not in for_new else for_new[path]
        mode = stat.S_IMODE(source.stat().st_mode)
        writes.append(FileWrite(path, content=with_line_ending(source.read_bytes(), ending), mode=mode))
    writes += [FileWrite(path) for path in deletions]
    return writes


def apply_writes(live: Path, writes: list[FileWrite]) -> None:
    """Stage every new file as a temporary sibling first, then rename them all into place, then delete.

    Running out of space or permission happens while staging, before any project file has changed; the renames that
    follow do not need space.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for write in writes:
            if write.content is not None or write.link_target is not None:
                target = live / write.path
                if target.is_dir() and not target.is_symlink():
                    continue  # a directory of the team's where the template has a file: left for the team to see
                staged.append((_stage(target, write), target))
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, target in staged:
        os.replace(temporary, target)
    for write in writes:
        if write.content is None and write.link_target is None:
            _delete(live, live / write.path)


def _stage(target: Path, write: FileWrite) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".phaseup")
    temporary = Path(name)
    try:
        if write.link_target is not None:
            os.close(descriptor)
            temporary.unlink()
            os.symlink(write.link_target, temporary)
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(write.content or b"")
            temporary.chmod(write.mode)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _delete(live: Path, target: Path) -> None:
    """Remove a file and the directories it leaves empty (git does not track empty directories either)."""
    if target.is_symlink() or target.is_file():
        target.unlink()
    parent = target.parent
    while parent != live and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
