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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path

from golive.plugins.monitoring import gitrepo

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
    """Files to scan (relative) and how they were chosen."""
    if gitrepo.is_repo(root):
        return gitrepo.tracked_and_untracked(root), "git tracked and untracked-not-ignored files"
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            files.append(name if rel_dir == "." else os.path.join(rel_dir, name))
    return sorted(files), "every file under the target (not a git repository)"


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


# One pass over `git log -p -U0`: the headers that give a line its commit, file and number, and
# the added lines holding a fragment some rule needs; everything else is skipped in RE2.
HISTORY_LINE = secret_rules._fast_re.compile(
    (r"(?m)^(?:commit [0-9a-f]{40}$|\+\+\+ [^\n]*|@@ [^\n]*|\+[^\n]*(?:" + secret_rules._FRAGMENTS + r")[^\n]*)").encode())


def _hunk_start(header: bytes) -> int:
    # "@@ -a,b +c,d @@": the new-side start line
    try:
        return int(header.split(b"+", 1)[1].split(b" ", 1)[0].split(b",", 1)[0])
    except (IndexError, ValueError):
        return 0


def scan_history(root: Path, min_entropy: float = 3.0, max_commits: int = 2000,
                 timeout: float = 60.0, exclude: tuple[str, ...] = (),
                 now: datetime | None = None) -> tuple[list[Finding], dict]:
    """Findings in lines added by any commit on any ref; ``(findings, info)``."""
    if not gitrepo.is_repo(root):
        return [], {"history": "not scanned: the target is not a git repository"}
    out = gitrepo.git(root, "log", "--all", "-p", "-U0", "--no-color", "--no-ext-diff", "--no-renames",
                      "--format=commit %H", f"--max-count={max_commits}", timeout=timeout).encode("utf-8")
    findings: list[Finding] = []
    commits: set[str] = set()
    commit, path, context, skip = "", "", "code", True
    hunk_at, hunk_line = 0, 0
    for m in HISTORY_LINE.finditer(out):
        line = m.group(0)
        if line.startswith(b"commit "):
            commit = line[7:].decode()
            commits.add(commit)
        elif line.startswith(b"+++ "):
            path = line[6:].decode("utf-8", errors="replace") if line.startswith(b"+++ b/") else ""
            skip = not path or excluded(path, exclude)
            context = secret_rules.path_context(path) if path else "code"
        elif line.startswith(b"@@"):
            hunk_at, hunk_line = m.end(), _hunk_start(line)
        elif not skip:
            text = line[1:].decode("utf-8", errors="replace").rstrip("\r")
            following = None
            if "-----BEGIN" in text:
                rest = out[m.end() + 1:].split(b"\n", PEM_LOOKAHEAD)[:PEM_LOOKAHEAD]
                following = []
                for raw in rest:
                    if not raw.startswith(b"+") or raw.startswith(b"+++ "):
                        break
                    following.append(raw[1:].decode("utf-8", errors="replace").rstrip("\r"))
            hits = scan_line(text, path, min_entropy, following, now, context)
            if hits:
                # with -U0 a hunk holds only -/+ lines: the added ones before this line set its number
                number = hunk_line + out.count(b"\n+", hunk_at, m.start() - 1)
                for rule, secret in hits:
                    findings.append(Finding(path, number, rule, mask(secret), fingerprint(secret), commit[:12],
                                            context))
    total = int(gitrepo.git(root, "rev-list", "--all", "--count", timeout=timeout).strip() or 0)
    note = f"{len(commits)} commit(s) scanned on all refs"
    if total > len(commits):  # --max-count keeps the newest: say what was left out
        note += f"; the {total - len(commits)} oldest of {total} were not scanned (max_commits)"
    return findings, {"history": note, "truncated": total > len(commits)}
