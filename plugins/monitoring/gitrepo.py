"""Reading the target's git history through the ``git`` command, with timeouts.

Shared by the audit family (configuration change tracking, documentation freshness), the
secret scanner (history) and the continuity check. A target that is not a git repository is
not an error: ``is_repo`` says so and callers report it. Every call is bounded by
``TIMEOUT_S`` so a huge or broken repository cannot hang a run.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 30.0
SEP = "\x1f"  # unit separator: cannot appear in names or dates, rarely in messages
END = "\x1e"


class GitError(RuntimeError):
    pass


def git(root: Path, *args: str, timeout: float = TIMEOUT_S) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=timeout, errors="replace")
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:g} s") from None
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()[:300]}")
    return proc.stdout


def is_repo(root: Path) -> bool:
    try:
        top = git(root, "rev-parse", "--show-toplevel").strip()
    except GitError:
        return False
    # Only the target's own repository counts, not an enclosing one it happens to sit in.
    return Path(top).resolve() == root.resolve()


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    date: float  # author date, epoch seconds
    subject: str
    body: str
    files: tuple[str, ...]

    @property
    def message(self) -> str:
        return (self.subject + "\n" + self.body).strip()


def commits(root: Path, paths: list[str] | None = None, max_count: int = 5000) -> list[Commit]:
    """Commits touching ``paths`` (all when None), oldest first, with the files they changed."""
    # Each record starts with END and its fields end with SEP, so the file list that
    # --name-only appends after the body is the last field of the split.
    fmt = END + SEP.join(["%H", "%an", "%ae", "%at", "%s", "%b"]) + SEP
    out = git(root, "log", f"--max-count={max_count}", f"--format={fmt}", "--name-only", "--no-renames",
              "--", *(paths or []))
    found = []
    for chunk in out.split(END):
        parts = chunk.split(SEP)
        if len(parts) < 7:
            continue
        sha, author, email, at, subject, body, files = parts[0], parts[1], parts[2], parts[3], parts[4], \
            parts[5], SEP.join(parts[6:])
        found.append(Commit(sha.strip(), author, email, float(at or 0), subject, body.strip(),
                            tuple(f.strip() for f in files.splitlines() if f.strip())))
    return list(reversed(found))


def show(root: Path, sha: str, path: str) -> str | None:
    """A file's content at a commit, or None when it did not exist there."""
    try:
        return git(root, "show", f"{sha}:{path}")
    except GitError:
        return None


def last_change(root: Path, path: str) -> float | None:
    """Author time of the last commit touching ``path`` (None: never committed)."""
    out = git(root, "log", "-1", "--format=%at", "--", path).strip()
    return float(out) if out else None


def last_changes(root: Path, paths: list[str], timeout: float = TIMEOUT_S) -> dict[str, float]:
    """Author time of the last commit touching each of ``paths`` (files), in one history walk.

    One ``git log -1`` per file costs a process start each (4.6 s for 169 documents of a real
    repository); this walks the log once, newest first, and stops as soon as every path is seen.
    Paths never committed are absent from the result.
    """
    wanted = set(paths)
    found: dict[str, float] = {}
    if not wanted:
        return found
    try:
        proc = subprocess.Popen(["git", "-C", str(root), "log", "--format=" + END + "%at", "--name-only",
                                 "--no-renames", "--", *sorted(wanted)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    try:
        stamp = None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith(END):
                stamp = float(line[1:] or 0)
            elif line and stamp is not None and line in wanted and line not in found:
                found[line] = stamp
                if len(found) == len(wanted):
                    break
    finally:
        proc.kill()
        proc.wait(timeout=timeout)
    return found


def dirty_files(root: Path, paths: list[str]) -> list[str]:
    """Files under ``paths`` modified or untracked in the working tree (not ignored)."""
    out = git(root, "status", "--porcelain", "--untracked-files=all", "--", *paths)
    return [line[3:] for line in out.splitlines() if line.strip()]


def tracked_and_untracked(root: Path) -> list[str]:
    """Files git would commit: tracked plus untracked-but-not-ignored."""
    out = git(root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [p for p in out.split("\0") if p]
