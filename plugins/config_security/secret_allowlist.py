"""Acknowledged secret-scan findings: the target's ``.golive-secrets.yaml``.

A list of entries (or a mapping with an ``acknowledged`` list), each::

    - fingerprint: 3f9a0c1d2e4b      # required: the finding's fingerprint (sha256 prefix, >= 8 hex)
      reason: BitMEX docs example secret used as a signing test vector   # required
      acknowledged_by: alice          # required
      path: crates/okx/**             # optional glob: the entry only covers findings in these files
      rule: assignment:api_secret     # optional: only findings of this rule

A finding matching an entry is reported as acknowledged (counted apart, never failing); an
entry that matches no finding is reported as a warning (stale, or a typo). The file is read
with ``yaml.safe_load`` and every problem names the file and the entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import yaml

FINGERPRINT = re.compile(r"^[0-9a-f]{8,64}$")
FIELDS = {"fingerprint", "reason", "acknowledged_by", "path", "rule"}
REQUIRED = ("fingerprint", "reason", "acknowledged_by")


class AllowlistError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    reason: str
    acknowledged_by: str
    path: str = ""
    rule: str = ""
    index: int = 0

    def covers(self, finding) -> bool:
        fp = finding.fingerprint
        if not (fp.startswith(self.fingerprint) or self.fingerprint.startswith(fp)):
            return False
        if self.rule and self.rule != finding.rule:
            return False
        return not self.path or fnmatch(finding.path, self.path) or Path(finding.path).match(self.path)


def load(path: Path) -> list[Entry]:
    """Entries of the allowlist at ``path``; [] when the file does not exist."""
    if not path.is_file():
        return []
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AllowlistError(f"{path.name}: not valid YAML: {exc}") from None
    if doc is None:
        return []
    if isinstance(doc, dict):
        unknown = set(doc) - {"acknowledged", "version"}
        if unknown:
            raise AllowlistError(f"{path.name}: unknown top-level key(s) {sorted(unknown)}; expected 'acknowledged'")
        doc = doc.get("acknowledged") or []
    if not isinstance(doc, list):
        raise AllowlistError(f"{path.name}: expected a list of {{fingerprint, reason, acknowledged_by, path?, rule?}}")
    entries = []
    for i, item in enumerate(doc, 1):
        where = f"{path.name}: entry {i}"
        if not isinstance(item, dict):
            raise AllowlistError(f"{where}: expected a mapping, got {type(item).__name__}")
        unknown = set(item) - FIELDS
        if unknown:
            raise AllowlistError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(FIELDS)}")
        for name in REQUIRED:
            if not str(item.get(name) or "").strip():
                raise AllowlistError(f"{where}: '{name}' is required")
        fp = str(item["fingerprint"]).strip().lower()
        if not FINGERPRINT.match(fp):
            raise AllowlistError(f"{where}: fingerprint {fp!r} is not 8-64 hex characters (the finding's fingerprint)")
        entries.append(Entry(fp, str(item["reason"]).strip(), str(item["acknowledged_by"]).strip(),
                             str(item.get("path") or ""), str(item.get("rule") or ""), i))
    return entries


def split(findings: list, entries: list[Entry]) -> tuple[list, list[tuple[object, Entry]], list[Entry]]:
    """(open findings, [(acknowledged finding, entry)], entries that matched nothing)."""
    open_, acked, used = [], [], set()
    for f in findings:
        entry = next((e for e in entries if e.covers(f)), None)
        if entry is None:
            open_.append(f)
        else:
            acked.append((f, entry))
            used.add(entry.index)
    return open_, acked, [e for e in entries if e.index not in used]
