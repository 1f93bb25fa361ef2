"""Reading the target's git history through the ``git`` command, with timeouts.

Shared by the audit family (configuration change tracking, documentation freshness), the
secret scanner (history) and the continuity check. A target that is not a git repository is
not an error: ``is_repo`` says so and callers report it. Every call is bounded by
``TIMEOUT_S`` so a huge or broken repository cannot hang a run.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_S = 30.0
SEP = "\x1f"  # unit separator: cannot appear in names or dates, rarely in messages
END = "\x1e"


class GitError(RuntimeError):
    pass


def _verb(args) -> str:
    """The git subcommand of ``args`` (past ``-c name=value`` options), for messages."""
    args = list(args)
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-c", "-C") else 1
    return args[i] if i < len(args) else " ".join(args[:1])


def git(root: Path, *args: str, timeout: float = TIMEOUT_S) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=timeout, errors="replace")
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {_verb(args)} timed out after {timeout:g} s") from None
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


# ---------------------------------------------------------------------------------------------
# Offline, byte-level access for long history walks (the secret scanner's `git log -p`).
#
# golive reads a repository; it never fetches. A partial clone (`--filter=blob:none`) makes git
# fetch a missing blob from its promisor remote on demand; git >= 2.44 honours
# GIT_NO_LAZY_FETCH, and for older git (2.39 here) GIT_ALLOW_PROTOCOL naming no real transport
# makes any fetch git attempts fail locally, before a connection ("transport 'file' not
# allowed"), so the read fails like a missing object instead.
OFFLINE_ENV = {
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_ALLOW_PROTOCOL": "golive-offline",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
}


def offline_env() -> dict[str, str]:
    return {**os.environ, **OFFLINE_ENV}


@dataclass(frozen=True)
class Run:
    stdout: bytes
    returncode: int
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def run_offline(root: Path, *args: str, input: bytes | None = None, timeout: float = TIMEOUT_S) -> Run:
    """``git args`` with the offline environment; git's own failure is returned, not raised
    (its partial output is still useful), only a missing git raises."""
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], input=input, capture_output=True,
                              timeout=max(timeout, 0.01), env=offline_env(),
                              stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired as exc:
        return Run(exc.stdout or b"", -9, f"git {_verb(args)} timed out after {timeout:g} s", True)
    return Run(proc.stdout, proc.returncode, proc.stderr.decode("utf-8", "replace").strip())


class GitStream:
    """Stdout of a git command in chunks of about ``chunk_size`` bytes, without holding it all.

    Runs with the offline environment; killed when ``timeout`` expires (then ``timed_out``).
    After iteration, ``returncode`` and ``stderr`` say how git ended; output read before a
    failure stays valid (git writes each commit's diff before it reads the next one's blobs).
    """

    def __init__(self, root: Path, args: list[str], input: bytes | None = None, timeout: float = TIMEOUT_S,
                 chunk_size: int = 4 << 20):
        self.args, self.chunk_size, self.timeout = args, chunk_size, timeout
        self.timed_out, self.returncode, self.stderr, self._eof = False, None, "", False
        self._err = tempfile.TemporaryFile()  # a file, not a pipe: a chatty stderr cannot block git
        try:
            self.proc = subprocess.Popen(["git", "-C", str(root), *args], env=offline_env(), stdout=subprocess.PIPE,
                                         stderr=self._err,
                                         stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                         start_new_session=True)  # a timeout ends git and any child it ran
        except FileNotFoundError:
            self._err.close()
            raise GitError("git is not installed") from None
        self._timer = threading.Timer(max(timeout, 0.01), self._expire)
        self._timer.daemon = True
        self._timer.start()
        if input is not None:
            try:  # `git log --stdin` reads all of stdin before it writes: no deadlock
                self.proc.stdin.write(input)
                self.proc.stdin.close()
            except OSError:  # git exited early (bad revision, killed): its status says why
                pass

    def _expire(self) -> None:
        self.timed_out = True
        self._kill()

    def _kill(self) -> None:
        if self.proc.returncode is not None:  # reaped: its process group id may be reused
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.proc.kill()

    def __iter__(self):
        try:
            while True:
                data = self.proc.stdout.read(self.chunk_size)
                if not data:
                    self._eof = True
                    break
                yield data
        finally:
            self.close()

    def close(self) -> None:
        if self.returncode is not None:
            return
        if not self._eof:
            self._kill()  # closed before the end (consumer stopped): do not leave git running
        self.proc.stdout.close()
        self.returncode = self.proc.wait()
        self._timer.cancel()
        self._err.seek(0)
        self.stderr = self._err.read(4000).decode("utf-8", "replace").strip()
        self._err.close()
        if self.timed_out:
            self.stderr = f"git {_verb(self.args)} timed out after {self.timeout:g} s"

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def is_shallow(root: Path) -> bool:
    """A shallow clone (``git clone --depth N``): history before its boundary is not there."""
    run = run_offline(root, "rev-parse", "--is-shallow-repository")
    return run.ok and run.stdout.strip() == b"true"


def promisor_remotes(root: Path) -> list[str]:
    """Remotes of a partial clone (``--filter=...``): objects git would fetch from on demand."""
    run = run_offline(root, "config", "--get-regexp", r"^(remote\..*\.promisor|extensions\.partialclone)$")
    found = []
    for line in run.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if key.lower() == "extensions.partialclone" and value:
            found.append(value)
        elif key.endswith(".promisor") and value.lower() in ("true", "yes", "on", "1"):
            found.append(key[len("remote."):-len(".promisor")])
    return sorted(set(found))


def present_objects(root: Path, timeout: float = TIMEOUT_S) -> set[bytes] | None:
    """Object ids (hex, bytes) stored locally -- packs and loose objects -- read without
    fetching anything (``--batch-all-objects`` only enumerates what is there); None when git
    cannot list them."""
    run = run_offline(root, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)", timeout=timeout)
    return set(run.stdout.split()) if run.ok else None
