"""Plaintext secret scanner for the target's files and git history.

Finds known key formats (AWS, GitHub, Slack, Stripe, Google, Databento, private key
blocks, JSON web tokens) and generic ``key = value`` assignments whose name says secret and
whose value looks random (Shannon entropy). Values that are references -- ``${ENV}``,
``ENC[...]``, ``vault:``/``!vault`` -- and obvious placeholders are not secrets.

A finding never carries the secret: only a masked form (first 4 characters and the length)
and a short fingerprint (first 12 hex of its sha256) so the same key can be recognised in
a file and in history without being revealed. The scanned line's text is never kept.
"""
from __future__ import annotations

import bisect
import hashlib
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from golive.plugins.monitoring import gitrepo

KNOWN_FORMATS = {
    "aws-access-key-id": re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"),
    "github-token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,})\b"),
    "slack-token": re.compile(r"\b(xox[abprs]-[A-Za-z0-9-]{10,})\b"),
    "stripe-live-key": re.compile(r"\b([sr]k_live_[0-9A-Za-z]{20,})\b"),
    "google-api-key": re.compile(r"\b(AIza[0-9A-Za-z_\-]{35})\b"),
    "databento-api-key": re.compile(r"\b(db-[A-Za-z0-9]{29})\b"),
    "private-key-block": re.compile(r"(-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----)"),
    "json-web-token": re.compile(r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})\b"),
}
SECRET_NAME = r"(?:api[_-]?key|apikey|secret(?:[_-]?key)?|client[_-]?secret|access[_-]?key|auth[_-]?token|token|password|passwd|pwd|private[_-]?key)"
ASSIGNMENT = re.compile(
    r"(?i)[\"']?([A-Za-z0-9_.-]*" + SECRET_NAME + r")[\"']?\s*(?:=|:|=>)\s*[\"']?([^\s\"',;#}]{8,})")
REFERENCE = re.compile(r"^(?:\$\{[^}]*\}?|\$[A-Z_][A-Z0-9_]*|ENC\[.*|enc:.*|vault:.*|!vault.*|sops:.*|"
                       r"os\.environ.*|env\(.*|getenv.*|<[^>]*>?|\{\{.*)$", re.IGNORECASE)
PLACEHOLDER = re.compile(r"(?i)(example|placeholder|changeme|your[_-]|dummy|redacted|xxxx|\*\*\*|\.\.\.|none|null|"
                         r"true|false|required|optional|string)")
MAX_FILE_BYTES = 2 * 1024 * 1024
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    masked: str
    fingerprint: str
    commit: str = ""  # set for findings in git history

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v != ""}


def mask(secret: str) -> str:
    """First 4 characters and the length; never more, whatever the secret's size."""
    return f"{secret[:4]}…({len(secret)} chars)"


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def looks_random(value: str, min_entropy: float) -> bool:
    if REFERENCE.match(value) or PLACEHOLDER.search(value):
        return False
    if len(set(value)) < 6 or value.isalpha() and value.islower():
        return False  # words and repeated characters are names, not keys
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes >= 2 and entropy(value) >= min_entropy


# Every rule needs one of these fragments, so lines without any are skipped in C speed;
# scanning megabytes of logs line by line in Python would dominate a run otherwise.
CANDIDATE = re.compile(r"(?i)key|secret|token|passw|pwd|AKIA|ASIA|gh[pousr]_|xox|[sr]k_live|AIza|db-|BEGIN|eyJ")


def scan_line(text: str, min_entropy: float = 3.0) -> list[tuple[str, str]]:
    """(rule, secret) pairs found in one line."""
    if not CANDIDATE.search(text):
        return []
    hits, seen = [], set()
    for rule, pattern in KNOWN_FORMATS.items():
        for m in pattern.finditer(text):
            hits.append((rule, m.group(1)))
            seen.add(m.group(1))
    for m in ASSIGNMENT.finditer(text):
        value = m.group(2)
        if any(value in s or s in value for s in seen):
            continue
        if looks_random(value, min_entropy):
            hits.append((f"assignment:{m.group(1).lower()}", value))
    return hits


def scan_text(text: str, path: str, commit: str = "", min_entropy: float = 3.0,
              line_numbers: list[int] | None = None) -> list[Finding]:
    out = []
    if not CANDIDATE.search(text):
        return out
    lines = text.split("\n")  # not splitlines(): offsets below must count exactly one char per break
    # Only lines holding a candidate fragment are scanned: find them over the whole text.
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    wanted = sorted({bisect.bisect_right(starts, m.start()) - 1 for m in CANDIDATE.finditer(text)})
    for i in wanted:
        line = lines[i].rstrip("\r") if 0 <= i < len(lines) else ""
        for rule, secret in scan_line(line, min_entropy):
            number = line_numbers[i] if line_numbers else i + 1
            out.append(Finding(path, number, rule, mask(secret), fingerprint(secret), commit))
    return out


def candidate_files(root: Path) -> tuple[list[str], str]:
    """Files to scan (relative) and how they were chosen."""
    if gitrepo.is_repo(root):
        return gitrepo.tracked_and_untracked(root), "git tracked and untracked-not-ignored files"
    files = []
    for p in root.rglob("*"):
        if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(root).parts):
            files.append(str(p.relative_to(root)))
    return sorted(files), "every file under the target (not a git repository)"


def read_text_file(path: Path) -> str | None:
    """Text of a file, or None for binary or oversized files (they cannot hold a key line)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def scan_files(root: Path, min_entropy: float = 3.0, exclude: tuple[str, ...] = ()) -> tuple[list[Finding], dict]:
    files, how = candidate_files(root)
    findings, scanned = [], 0
    for rel in files:
        if any(Path(rel).match(g) for g in exclude):
            continue
        text = read_text_file(root / rel)
        if text is None:
            continue
        scanned += 1
        findings += scan_text(text, rel, min_entropy=min_entropy)
    return findings, {"files_scanned": scanned, "selection": how}


HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def scan_history(root: Path, min_entropy: float = 3.0, max_commits: int = 2000,
                 timeout: float = 60.0, exclude: tuple[str, ...] = ()) -> tuple[list[Finding], dict]:
    """Findings in lines added by any commit on any ref; ``(findings, info)``."""
    if not gitrepo.is_repo(root):
        return [], {"history": "not scanned: the target is not a git repository"}
    out = gitrepo.git(root, "log", "--all", "-p", "-U0", "--no-color", "--no-ext-diff", "--format=commit %H",
                      f"--max-count={max_commits}", timeout=timeout)
    findings, commit, path, line_no, commits = [], "", "", 0, set()
    for raw in out.splitlines():
        if raw.startswith("commit ") and len(raw) == 47:
            commit = raw[7:]
            commits.add(commit)
        elif raw.startswith("+++ "):
            path = raw[6:] if raw.startswith("+++ b/") else ""
        elif raw.startswith("@@"):
            m = HUNK.match(raw)
            line_no = int(m.group(1)) if m else 0
        elif raw.startswith("+") and path:
            if not any(Path(path).match(g) for g in exclude):
                for rule, secret in scan_line(raw[1:], min_entropy):
                    findings.append(Finding(path, line_no, rule, mask(secret), fingerprint(secret), commit[:12]))
            line_no += 1
    total = int(gitrepo.git(root, "rev-list", "--all", "--count", timeout=timeout).strip() or 0)
    note = f"{len(commits)} commit(s) scanned on all refs"
    if total > len(commits):  # --max-count keeps the newest: say what was left out
        note += f"; the {total - len(commits)} oldest of {total} were not scanned (max_commits)"
    return findings, {"history": note, "truncated": total > len(commits)}
