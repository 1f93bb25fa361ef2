"""The history scan as it was before the streamed, parallel walk (commit 0ead414): one
``git log --all -p -U0`` read whole, decoded and parsed in one RE2 pass. Kept as the reference
the new walk must agree with (tests/test_secret_history.py, benchmarks/bench_secret_history.py).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from golive.plugins.config_security import secret_rules
from golive.plugins.config_security.secret_scan import (PEM_LOOKAHEAD, Finding, excluded, fingerprint, mask,
                                                         scan_line)
from golive.plugins.monitoring import gitrepo

HISTORY_LINE = secret_rules._fast_re.compile(
    (r"(?m)^(?:commit [0-9a-f]{40}$|\+\+\+ [^\n]*|@@ [^\n]*|\+[^\n]*(?:" + secret_rules._FRAGMENTS + r")[^\n]*)").encode())


def _hunk_start(header: bytes) -> int:
    try:
        return int(header.split(b"+", 1)[1].split(b" ", 1)[0].split(b",", 1)[0])
    except (IndexError, ValueError):
        return 0


def legacy_scan_history(root: Path, min_entropy: float = 3.0, max_commits: int = 2000, timeout: float = 60.0,
                        exclude: tuple[str, ...] = (), now: datetime | None = None) -> list[Finding]:
    out = gitrepo.git(root, "log", "--all", "-p", "-U0", "--no-color", "--no-ext-diff", "--no-renames",
                      "--format=commit %H", f"--max-count={max_commits}", timeout=timeout).encode("utf-8")
    findings: list[Finding] = []
    commit, path, context, skip = "", "", "code", True
    hunk_at, hunk_line = 0, 0
    for m in HISTORY_LINE.finditer(out):
        line = m.group(0)
        if line.startswith(b"commit "):
            commit = line[7:].decode()
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
                number = hunk_line + out.count(b"\n+", hunk_at, m.start() - 1)
                for rule, secret in hits:
                    findings.append(Finding(path, number, rule, mask(secret), fingerprint(secret), commit[:12], context))
    return findings
