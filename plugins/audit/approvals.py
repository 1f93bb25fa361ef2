"""Change approvals and the documentation rules every configuration commit must meet.

The approval register (``compliance/approvals.yaml``) lists ``approvals`` with ``id``
(e.g. CHG-0042), ``approved_by``, ``date`` (ISO date or time), ``reason`` and optionally
``parameters`` (dotted keys or fnmatch patterns the approval covers). A commit links to an
approval by naming its id in the message (``approval_pattern``). A change is documented when
its commit has an author with an e-mail, a date, a reason (message text beyond the approval
id of at least ``min_reason_chars`` characters), and links to a known approval dated no later
than the commit and given by someone other than the author (four eyes).
"""
from __future__ import annotations

import re
from pathlib import Path

from golive.model import CheckContext
from golive.plugins.config_security import configfiles
from golive.plugins.monitoring.gitrepo import Commit
from golive.plugins.monitoring.opslog import ArtifactError, ArtifactMissing, input_path, parse_ts

DEFAULT_PATTERN = r"\b(?:CHG|APR)-\d+\b"


def load_register(ctx: CheckContext) -> tuple[Path, dict[str, dict]]:
    path = input_path(ctx, "approvals", "compliance/approvals.yaml")
    if not path.is_file():
        raise ArtifactMissing(f"approval register {path} not found")
    ctx.record_artifact(path)
    doc = configfiles.load(path)
    items = doc.get("approvals") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ArtifactError(path, None, "expected an 'approvals' list of {id, approved_by, date, reason, parameters?}")
    register = {}
    for i, a in enumerate(items):
        if not isinstance(a, dict) or not {"id", "approved_by", "date"} <= set(a):
            raise ArtifactError(path, None, f"approvals[{i}] needs id, approved_by and date")
        register[str(a["id"])] = {**a, "_date": parse_ts(str(a["date"]), path, None, f"approvals[{i}].date")}
    return path, register


def problems(commit: Commit, register: dict[str, dict], pattern: str, min_reason: int) -> tuple[list[str], list[dict]]:
    """What keeps a commit from being documented, and the approvals it links to."""
    issues = []
    if not commit.author.strip() or "@" not in commit.email:
        issues.append("no identifiable author")
    if not commit.date:
        issues.append("no date")
    ids = re.findall(pattern, commit.message)
    reason = re.sub(pattern, "", commit.message).strip(" :-\n\t")
    if len(reason) < min_reason:
        issues.append(f"no reason (message has {len(reason)} characters besides the approval id)")
    linked = [register[i] for i in ids if i in register]
    if not ids:
        issues.append("no approval id in the message")
    elif not linked:
        issues.append(f"approval {', '.join(ids)} not in the register")
    for a in linked:
        # Approval dates are often written as plain dates: a same-day approval is on time.
        if a["_date"] > commit.date + 86400:
            issues.append(f"approval {a['id']} is dated after the commit")
        if str(a["approved_by"]).strip().lower() in (commit.author.strip().lower(), commit.email.lower()):
            issues.append(f"approval {a['id']} given by the author")
    return issues, linked
