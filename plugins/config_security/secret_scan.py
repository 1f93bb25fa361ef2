"""Plaintext secret scanner for the target's files and git history.

The rules (what is a secret, what is a placeholder, identifier or fixture) live in
secret_rules.py; this module finds the lines to judge, fast, and turns hits into findings.

Speed: one compiled pre-filter regex (RE2, a DFA) runs over each file's bytes and yields only
the lines holding a fragment some rule needs (``key``, ``token``, ``AKIA``, ``-----BEGIN``...);
only those lines are decoded and judged in Python. Files are read and pre-filtered on a small
thread pool.

A finding never carries the secret: only a masked form (first 4 characters and the length)
and a fingerprint (first 12 hex of its sha256), so the same key can be recognised in a file,
in history and in the allowlist (.golive-secrets.yaml, secret_allowlist.py) without being
revealed. The scanned line's text is never kept.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path

from golive.plugins.monitoring import gitrepo
from golive.run.target import golive_stores, inside_only

from . import secret_rules
from .secret_rules import CANDIDATE_LINE, KNOWN_FORMATS, SECRET_NAME, entropy, scan_line  # noqa: F401 (API)

MAX_FILE_BYTES = 2 * 1024 * 1024
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache"}
ALLOWLIST_FILE = ".golive-secrets.yaml"
PEM_LOOKAHEAD = 120  # lines after a BEGIN PRIVATE KEY header searched for its body


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    masked: str
    fingerprint: str
    commit: str = ""  # set for findings in git history
    context: str = "code"  # code, test or doc (secret_rules.path_context)

    def as_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if v != ""}
        out["acknowledge"] = acknowledge_hint(self)
        return out


def acknowledge_hint(f: Finding) -> str:
    return (f"not a secret? add to {ALLOWLIST_FILE}: - {{fingerprint: {f.fingerprint}, path: {f.path}, "
            f"rule: {f.rule}, reason: ..., acknowledged_by: ...}}")


def mask(secret: str) -> str:
    """First 4 characters and the length; never more, whatever the secret's size."""
    return f"{secret[:4]}…({len(secret)} chars)"


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def looks_random(value: str, min_entropy: float) -> bool:
    return secret_rules.value_rejection(value, "", "", min_entropy) is None


def scan_bytes(data: bytes, path: str, commit: str = "", min_entropy: float = 3.0,
               line_numbers: list[int] | None = None, now: datetime | None = None) -> list[Finding]:
    """Findings in one file's content; ``line_numbers`` maps the i-th line to its real number
    (history hunks)."""
    out: list[Finding] = []
    context = secret_rules.path_context(path)
    # Rust unit tests sit in a `#[cfg(test)]` module at the end of the source file.
    tests_from = data.find(b"#[cfg(test)]") if context == "code" and path.endswith(".rs") else -1
    newlines, last = 0, 0
    for m in CANDIDATE_LINE.finditer(data):
        start, end = m.start(), m.end()
        newlines += data.count(b"\n", last, start)
        last = start
        line = data[start:end].decode("utf-8", errors="replace").rstrip("\r")
        following = None
        if "-----BEGIN" in line:
            following = data[end + 1:].split(b"\n", PEM_LOOKAHEAD)[:PEM_LOOKAHEAD]
            following = [x.decode("utf-8", errors="replace").rstrip("\r") for x in following]
        here = "test" if 0 <= tests_from < start else context
        hits = scan_line(line, path, min_entropy, following, now, here)
        if not hits:
            continue
        number = line_numbers[newlines] if line_numbers and newlines < len(line_numbers) else newlines + 1
        for rule, secret in hits:
            out.append(Finding(path, number, rule, mask(secret), fingerprint(secret), commit, here))
    return out


def scan_text(text: str, path: str, commit: str = "", min_entropy: float = 3.0,
              line_numbers: list[int] | None = None, now: datetime | None = None) -> list[Finding]:
    return scan_bytes(text.encode("utf-8", errors="replace"), path, commit, min_entropy, line_numbers, now)


def candidate_files(root: Path) -> tuple[list[str], str]:
    """Files to scan (relative) and how they were chosen. A file that is a symbolic link out of
    the target is left out (``confined`` logs it as a run warning): golive reads nothing outside."""
    if gitrepo.is_repo(root):
        return inside_only(root, gitrepo.tracked_and_untracked(root)), "git tracked and untracked-not-ignored files"
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            files.append(name if rel_dir == "." else os.path.join(rel_dir, name))
    return inside_only(root, sorted(files)), "every file under the target (not a git repository)"


def read_bytes(path: Path) -> bytes | None:
    """Content of a text file, or None for binary or oversized files (they cannot hold a key line)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data


def read_text_file(path: Path) -> str | None:
    data = read_bytes(path)
    return None if data is None else data.decode("utf-8", errors="replace")


def excluded(rel: str, exclude: tuple[str, ...]) -> bool:
    return any(fnmatch(rel, g) or Path(rel).match(g) for g in exclude)


def scan_files(root: Path, min_entropy: float = 3.0, exclude: tuple[str, ...] = (),
               now: datetime | None = None, workers: int | None = None) -> tuple[list[Finding], dict]:
    files, how = candidate_files(root)
    files = [rel for rel in files if not excluded(rel, exclude)]
    stores = golive_stores(root, files)  # golive's own evidence store: its key is not the team's leak
    if stores:
        files = [rel for rel in files if not any(rel == s or rel.startswith(s.rstrip("/") + "/") for s in stores)]
        how += f"; golive evidence store(s) left out: {', '.join(stores)}"

    def one(rel: str) -> tuple[bool, list[Finding]]:
        data = read_bytes(root / rel)
        if data is None:
            return False, []
        return True, scan_bytes(data, rel, min_entropy=min_entropy, now=now)

    workers = workers or 1  # measured: threads only add GIL contention (RE2 holds it)
    if workers > 1 and len(files) > 64:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, files, chunksize=64))
    else:
        results = [one(rel) for rel in files]
    findings = [f for _, found in results for f in found]
    return findings, {"files_scanned": sum(ok for ok, _ in results), "selection": how}


# ---------------------------------------------------------------------------------------------
# History: lines added by any commit on any ref (docs/secret-scanning.md, "Git history").
#
# One pass over `git log -p -U0` output: the headers that give a line its commit, file and
# number, and the added lines holding a fragment some rule needs; everything else is skipped in
# RE2. The output is streamed in chunks (freqtrade's newest 2000 commits on all refs are 540 MB
# of diff), the commit list is split over a few git processes run in parallel, and commits git
# cannot read (missing or corrupt objects, blobs a partial clone never fetched) are isolated
# and reported instead of failing the whole walk.
HISTORY_LINE = secret_rules._fast_re.compile(
    (r"(?m)^(?:commit [0-9a-f]{40,64}$|diff --git [^\n]*|\+\+\+ [^\n]*|@@ [^\n]*|\+[^\n]*(?:"
     + secret_rules._FRAGMENTS + r")[^\n]*)").encode())

# Formats that are binary by construction: git prints "Binary files differ" for them, so no
# added line can be judged; excluding them by pathspec spares git reading and inflating them.
BINARY_SUFFIXES = (
    "png", "jpg", "jpeg", "gif", "bmp", "ico", "webp", "tif", "tiff", "psd",
    "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "jar", "war", "whl", "egg",
    "so", "dll", "dylib", "exe", "o", "a", "lib", "pyc", "pyd", "class", "wasm",
    "parquet", "feather", "arrow", "h5", "hdf5", "npy", "npz", "dbn",
    "woff", "woff2", "ttf", "otf", "eot", "mp3", "mp4", "wav", "mov", "avi", "sqlite", "sqlite3", "pdf",
)
HISTORY_PATHSPEC = ("--", ".", *(f":(exclude,icase)*.{s}" for s in BINARY_SUFFIXES))
# Output independent of the user's git configuration: no pager, colour, external diff or
# textconv program, renames, custom prefixes, quoted non-ASCII paths or signature checks.
# core.bigFileThreshold: a blob over MAX_FILE_BYTES is diffed as binary (not read), as the
# working-tree scan skips such files.
_LOG_OPTIONS = ("-c", "core.quotepath=false", "-c", "log.showSignature=false",
                "-c", f"core.bigFileThreshold={MAX_FILE_BYTES}", "log", "--no-walk=unsorted",
                "--stdin", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames", "--format=commit %H")
LOG_P = (*_LOG_OPTIONS, "-p", "-U0", "--src-prefix=a/", "--dst-prefix=b/")
LOG_RAW = (*_LOG_OPTIONS, "--raw", "-z", "--no-abbrev")
PARALLEL_MIN_COMMITS = 200  # below this one git process is cheaper than several
LONG_LINE = 2048  # added lines at least this long (bytes) are judged once per distinct text
MAX_ISOLATED_RUNS = 64  # per-commit git runs spent on unreadable commits before the rest is skipped
NULL_OID = re.compile(rb"^0+$")


def _hunk_start(header: bytes) -> int:
    # "@@ -a,b +c,d @@": the new-side start line
    try:
        return int(header.split(b"+", 1)[1].split(b" ", 1)[0].split(b",", 1)[0])
    except (IndexError, ValueError):
        return 0


def _diff_path(header: bytes) -> str:
    """The new side's path of a ``+++`` header ('' for /dev/null): C-quoted when it holds
    control characters, quotes or backslashes; a trailing tab when it holds a space."""
    raw = header[4:].rstrip(b"\r").rstrip(b"\t")
    if raw.startswith(b'"') and raw.endswith(b'"'):
        try:
            raw = raw[1:-1].decode("unicode_escape").encode("latin-1")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return ""
    return raw[2:].decode("utf-8", errors="replace") if raw.startswith(b"b/") else ""


def _lines_after(data: bytes, pos: int, count: int) -> list[bytes]:
    """Up to ``count`` lines starting at ``pos`` (no copy of the rest of ``data``)."""
    out = []
    while len(out) < count and pos <= len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            out.append(data[pos:])
            break
        out.append(data[pos:end])
        pos = end + 1
    return out


class _LogParser:
    """Findings per commit from `git log -p -U0` output fed in chunks of any size."""

    def __init__(self, min_entropy: float, exclude: tuple[str, ...], now: datetime | None,
                 line_cache: dict | None = None):
        self.min_entropy, self.exclude, self.now = min_entropy, exclude, now
        # A long line's hits depend only on its text, the PEM lines after it and what its path
        # says (context, lock file, code or config): shared by the parsers of one walk.
        self.line_cache = {} if line_cache is None else line_cache
        self.found: dict[str, list[Finding]] = {}  # commit (full id) -> findings, for every header seen
        self.headers: list[str] = []
        self._carry = b""
        self._commit, self._path, self._context, self._skip, self._header = "", "", "code", True, False
        self._hunk_line, self._added, self._counted_to = 0, 0, 0

    def feed(self, data: bytes, final: bool = False) -> None:
        buf = self._carry + data if self._carry else data
        if final:
            end = len(buf)
        else:
            # Keep the last PEM_LOOKAHEAD + 1 lines for the next chunk, so a private key header
            # always sees the lines of its body; the kept part starts with the newline before it.
            end = len(buf)
            for _ in range(PEM_LOOKAHEAD + 2):
                end = buf.rfind(b"\n", 0, end)
                if end < 0:
                    self._carry = buf
                    return
        self._scan(buf, end)
        if self._hunk_line:
            self._added += buf.count(b"\n+", self._counted_to, end)
        self._counted_to = 0
        self._carry = b"" if final else buf[end:]

    def _scan(self, buf: bytes, end: int) -> None:
        view = buf if end == len(buf) else buf[:end]
        for m in HISTORY_LINE.finditer(view):
            line = m.group(0)
            first = line[:1]
            if first == b"c":  # commit <id>
                self._commit = line[7:].decode()
                self.headers.append(self._commit)
                self.found.setdefault(self._commit, [])
                self._path, self._skip, self._header, self._hunk_line = "", True, False, 0
            elif first == b"d":  # diff --git: the file's +++ header follows
                self._path, self._skip, self._header, self._hunk_line = "", True, True, 0
            elif first == b"@":
                self._header = False
                self._hunk_line, self._added, self._counted_to = _hunk_start(line), 0, m.end()
            elif self._header and line.startswith(b"+++ "):
                self._path = _diff_path(line)
                self._skip = not self._path or excluded(self._path, self.exclude)
                self._context = secret_rules.path_context(self._path) if self._path else "code"
            elif not self._skip and self._hunk_line:
                self._added_line(buf, m)

    def _added_line(self, buf: bytes, m) -> None:
        line = m.group(0)
        text = line[1:].decode("utf-8", errors="replace").rstrip("\r")
        following = None
        if "-----BEGIN" in text:
            following = []
            for raw in _lines_after(buf, m.end() + 1, PEM_LOOKAHEAD):
                if not raw.startswith(b"+") or raw.startswith(b"+++ "):
                    break
                following.append(raw[1:].decode("utf-8", errors="replace").rstrip("\r"))
        if len(line) < LONG_LINE:
            hits = scan_line(text, self._path, self.min_entropy, following, self.now, self._context)
        else:  # minified bundles and generated indexes come back in commit after commit, unchanged
            key = (hashlib.sha1(line).digest(), self._context, secret_rules.skipped_file(self._path),
                   secret_rules.quotes_required(self._path), tuple(following or ()))
            hits = self.line_cache.get(key)
            if hits is None:
                hits = self.line_cache[key] = scan_line(text, self._path, self.min_entropy, following, self.now,
                                                        self._context)
        # with -U0 a hunk holds only -/+ lines: the added ones before this line set its number
        self._added += buf.count(b"\n+", self._counted_to, m.start() - 1)
        self._counted_to = max(self._counted_to, m.start() - 1)
        if hits:
            number = self._hunk_line + self._added
            for rule, secret in hits:
                self._found_one(Finding(self._path, number, rule, mask(secret), fingerprint(secret),
                                        self._commit[:12], self._context))

    def _found_one(self, finding: Finding) -> None:
        self.found.setdefault(self._commit, []).append(finding)


class _HistoryWalk:
    """Scans a list of commits (newest first) with as few git processes as the repository
    allows; records findings per commit and the commits it could not read completely."""

    def __init__(self, root: Path, commits: list[str], min_entropy: float, exclude: tuple[str, ...],
                 now: datetime | None, deadline: float):
        self.commits = commits  # all commits of the walk (newest first)
        self.root, self.min_entropy, self.exclude, self.now, self.deadline = root, min_entropy, exclude, now, deadline
        self.found: dict[str, list[Finding]] = {}
        self.scanned: set[str] = set()
        self.unreadable: dict[str, str] = {}  # commit -> why (some or all of its files not read)
        self.not_scanned: dict[str, str] = {}  # commit -> why (timeout, too many failures)
        self.isolated_runs = 0
        self._damage: dict[str, list[str]] | None = None
        self.line_cache: dict = {}
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def log(self, commits: list[str], pathspec: tuple[str, ...] = HISTORY_PATHSPEC) -> tuple[_LogParser, gitrepo.GitStream]:
        parser = _LogParser(self.min_entropy, self.exclude, self.now, self.line_cache)
        stream = gitrepo.GitStream(self.root, [*LOG_P, *pathspec], input="".join(c + "\n" for c in commits).encode(),
                                   timeout=self.remaining())
        for chunk in stream:
            parser.feed(chunk)
        parser.feed(b"", final=True)
        return parser, stream

    def scan(self, commits: list[str]) -> None:
        """Every commit of ``commits`` ends in ``scanned``, ``unreadable`` or ``not_scanned``."""
        pos = 0
        while pos < len(commits):
            if self.remaining() <= 0:
                self._give_up(commits[pos:], "time budget (history_timeout_s) spent")
                return
            todo = commits[pos:]
            damage = self._damage
            if damage is not None and any(c in damage for c in todo):
                clean = [c for c in todo if c not in damage]
                self._scan_damaged([c for c in todo if c in damage], damage)
                todo, commits, pos = clean, clean, 0
                if not todo:
                    return
            parser, stream = self.log(todo)
            if stream.ok:
                self._keep(parser, parser.headers)
                self.scanned.update(todo)
                return
            if stream.timed_out:
                done = parser.headers[:-1]
                self._keep(parser, done)
                self.scanned.update(todo[:todo.index(done[-1]) + 1] if done else [])
                self._give_up(todo[todo.index(done[-1]) + 1:] if done else todo, stream.stderr)
                return
            # git stopped at an object it could not read: keep the commits it finished, find
            # out which blobs are missing (once), then go on past the commit that failed.
            last = parser.headers[-1] if parser.headers else None
            failed_at = todo.index(last) if last else 0
            self._keep(parser, parser.headers[:-1])
            self.scanned.update(todo[:failed_at])
            self._load_damage()
            if self._damage and any(c in self._damage for c in todo[failed_at:]):
                pos += failed_at
                continue  # the next round isolates the damaged commits
            if not self._isolate(todo[failed_at], stream.stderr):
                return
            pos += failed_at + 1

    def _keep(self, parser: _LogParser, headers: list[str]) -> None:
        with self._lock:
            for c in headers:
                self.found[c] = parser.found.get(c, [])

    def _give_up(self, commits: list[str], why: str) -> None:
        with self._lock:
            for c in commits:
                self.not_scanned.setdefault(c, why)

    def _isolate(self, commit: str, error: str, pathspec: tuple[str, ...] = HISTORY_PATHSPEC) -> bool:
        """One commit alone: scanned, or recorded as unreadable. False when the budget of such
        runs is spent (the caller stops)."""
        with self._lock:
            self.isolated_runs += 1
            spent = self.isolated_runs > MAX_ISOLATED_RUNS
        if spent or self.remaining() <= 0:
            self._give_up([commit], f"not read: {MAX_ISOLATED_RUNS} unreadable commits already isolated")
            return False
        parser, stream = self.log([commit], pathspec)
        with self._lock:
            if stream.ok:
                self.found[commit] = parser.found.get(commit, [])
                self.scanned.add(commit)
            else:
                self.unreadable[commit] = _first_line(stream.stderr or error)
        return True

    def _scan_damaged(self, commits: list[str], damage: dict[str, list[str]]) -> None:
        """Commits with blobs that are not in the repository: their other files are scanned,
        each commit alone (exact) while the budget of isolated runs lasts, the rest in one run
        without any of their missing paths (a partial clone has a missing blob in most commits)."""
        with self._lock:
            budget = max(0, MAX_ISOLATED_RUNS - self.isolated_runs)
        for commit in commits[:budget]:
            self._isolate(commit, "", HISTORY_PATHSPEC + _excludes(damage[commit]))
            self._note_missing(commit, damage[commit])
        rest = commits[budget:]
        if not rest:
            return
        union = sorted({p for c in rest for p in damage[c]})
        parser, stream = self.log(rest, HISTORY_PATHSPEC + _excludes(union))
        if not stream.ok:
            self._give_up(rest, _first_line(stream.stderr))
            return
        self._keep(parser, parser.headers)
        with self._lock:
            self.scanned.update(rest)
        for commit in rest:
            self._note_missing(commit, damage[commit])

    def _note_missing(self, commit: str, missing: list[str]) -> None:
        with self._lock:
            if commit in self.scanned:
                self.unreadable[commit] = f"blob missing for {', '.join(missing[:3])}" + \
                                          (f" (+{len(missing) - 3} more)" if len(missing) > 3 else "")

    def _load_damage(self) -> None:
        with self._lock:
            if self._damage is None:
                self._damage = missing_blobs(self.root, self.commits, self.remaining()) or {}


def _excludes(paths: list[str]) -> tuple[str, ...]:
    return tuple(":(exclude,literal)" + p for p in paths)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["git failed"])[-1][:200]


def missing_blobs(root: Path, commits: list[str], timeout: float) -> dict[str, list[str]] | None:
    """Per commit, the paths whose old or new blob is not stored locally (deleted or corrupt
    object files, blobs a partial clone never fetched). Read from ``git log --raw`` (tree
    entries only, no blob is opened) and the list of local objects; None when git cannot say."""
    present = gitrepo.present_objects(root, timeout=max(timeout, 0.01))
    if present is None:
        return None
    run = gitrepo.run_offline(root, *LOG_RAW, *HISTORY_PATHSPEC, input="".join(c + "\n" for c in commits).encode(),
                              timeout=timeout)
    damage: dict[str, list[str]] = {}
    commit, meta = "", None
    for token in run.stdout.split(b"\0"):
        token = token.lstrip(b"\n")
        if meta is not None:
            modes_ids = meta[1:].split(b" ")
            if len(modes_ids) >= 4 and b"160000" not in modes_ids[:2]:  # a submodule is another repository
                if any(not NULL_OID.match(oid) and oid not in present for oid in modes_ids[2:4]):
                    damage.setdefault(commit, []).append(token.decode("utf-8", errors="replace"))
            meta = None
        elif token.startswith(b"commit "):
            commit = token[7:].strip().decode()
        elif token.startswith(b":"):
            meta = token
    return damage


def list_commits(root: Path, max_commits: int, timeout: float) -> tuple[list[str], str]:
    """The newest ``max_commits`` commits on all refs, newest first (`git log --all` order), and
    the error that stopped the walk early ('' when none)."""
    try:
        out = gitrepo.git(root, "log", "--all", "--format=%H", f"--max-count={max_commits}", timeout=timeout)
        return out.split(), ""
    except gitrepo.GitError as exc:
        if "timed out" in str(exc) or "not installed" in str(exc):
            raise
        # A missing or corrupt commit stops the walk: keep the commits listed before it.
        run = gitrepo.run_offline(root, "rev-list", "--all", f"--max-count={max_commits}", timeout=timeout)
        listed = [c.decode() for c in run.stdout.split()]
        if not listed:
            raise
        return listed, _first_line(run.stderr or str(exc))


def scan_history(root: Path, min_entropy: float = 3.0, max_commits: int = 2000,
                 timeout: float = 60.0, exclude: tuple[str, ...] = (),
                 now: datetime | None = None, workers: int | None = None) -> tuple[list[Finding], dict]:
    """Findings in lines added by any commit on any ref; ``(findings, info)``.

    Raises GitError only when no commit could be scanned; otherwise ``info["history"]`` says
    what was scanned and what was not (max_commits, shallow clone, partial clone, unreadable
    objects, time budget), with the details in the other keys of ``info``.
    """
    if not gitrepo.is_repo(root):
        return [], {"history": "not scanned: the target is not a git repository"}
    deadline = time.monotonic() + timeout
    commits, walk_error = list_commits(root, max_commits, timeout)
    total = len(commits)
    if total >= max_commits:
        counted = gitrepo.run_offline(root, "rev-list", "--all", "--count", timeout=max(deadline - time.monotonic(), 1))
        total = max(total, int(counted.stdout.strip() or 0) if counted.ok else total)
    walk = _HistoryWalk(root, commits, min_entropy, exclude, now, deadline)
    workers = max(1, workers or min(os.cpu_count() or 1, 4))
    parts = 1 if len(commits) < PARALLEL_MIN_COMMITS or workers == 1 else workers * 2
    size = -(-len(commits) // parts) if commits else 1
    chunks = [commits[i:i + size] for i in range(0, len(commits), size)]
    if len(chunks) > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(walk.scan, chunks))
    elif chunks:
        walk.scan(chunks[0])
    if commits and not walk.scanned:
        why = next(iter(walk.not_scanned.values()), "") or next(iter(walk.unreadable.values()), "")
        raise gitrepo.GitError(f"no commit could be read: {why}")
    findings = [f for c in commits for f in walk.found.get(c, [])]
    return findings, _history_info(root, commits, total, walk, walk_error)


def _history_info(root: Path, commits: list[str], total: int, walk: _HistoryWalk, walk_error: str) -> dict:
    scanned = len(walk.scanned)
    shallow = gitrepo.is_shallow(root)
    promisors = gitrepo.promisor_remotes(root)
    note = f"{scanned} commit(s) scanned on all refs"
    if shallow:
        note = f"shallow clone: {scanned} commit(s) scanned; history before the clone's depth is not in the repository"
    if total > len(commits):  # the newest max_commits are listed: say what was left out
        note += f"; the {total - len(commits)} oldest of {total} were not scanned (max_commits)"
    if walk_error:
        note += f"; warning: the history walk stopped early ({walk_error}): older commits not scanned"
    if promisors:
        note += (f"; partial clone (promisor remote {', '.join(promisors)}): blobs never fetched are not scanned "
                 "(golive does not fetch)")
    unreadable = [{"commit": c[:12], "reason": r} for c, r in walk.unreadable.items()]
    not_scanned = [{"commit": c[:12], "reason": r} for c, r in walk.not_scanned.items()]
    if unreadable:
        note += (f"; warning: {len(unreadable)} commit(s) not read completely (missing or corrupt objects): "
                 + ", ".join(f"{u['commit']} ({u['reason']})" for u in unreadable[:5])
                 + (f" and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""))
    if not_scanned:
        reasons = sorted({n["reason"] for n in not_scanned})
        note += f"; warning: {len(not_scanned)} commit(s) not scanned: {'; '.join(reasons)}"
    return {"history": note, "truncated": total > len(commits) or bool(walk_error) or bool(not_scanned),
            "commits_listed": len(commits), "commits_scanned": scanned, "commits_total": total,
            "shallow": shallow, "partial_clone": promisors, "unreadable_commits": unreadable[:50],
            "not_scanned_commits": not_scanned[:50]}
