"""API keys are not stored in plaintext: configuration secret fields and a repository scan.

Plan lines 59-69 (Configuration and Security Testing): "API key encryption" (PRE-CONF-05).

Two views of the same requirement. (1) Every configuration leaf whose key names a secret
(api_key, secret, token, password, private_key...) must hold a reference (``${ENV}``), an
encrypted value (``ENC[...]``, ``enc:``, ``vault:``, sops) or be empty; a literal value is
unprotected. (2) The secret scanner (secret_scan.py) runs over the repository's files and
its git history; a key in history stays exposed even after the file was fixed. Findings are
reported masked with file, line (and commit for history); no secret is ever kept. A target
with no finding and no configuration file at all is ``missing``: nothing shows how its keys
are stored.
"""
from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor

from golive.model import CheckContext, CheckResult, Requirement, Status

from golive.plugins.monitoring import gitrepo
from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import guarded

from . import configfiles, secret_allowlist, secret_scan

SECRET_KEY = re.compile(r"(?i)(^|[._-])(" + secret_scan.SECRET_NAME + r")$")
PROTECTED = re.compile(r"^(\$\{[^}]+\}|ENC\[.+\]|enc:.+|vault:.+|!vault.*|sops:.+|ref\+.+)$", re.IGNORECASE)


def config_secret_fields(ctx: CheckContext, pattern: str) -> tuple[list[dict], int]:
    unprotected, total = [], 0
    for path in configfiles.config_files(ctx.target.root, pattern):
        rel = str(path.relative_to(ctx.target.root))
        ctx.record_artifact(path)  # a file's digest reveals nothing of a key inside it
        for key, value, line in configfiles.scalars(path):
            leaf = key.rsplit(".", 1)[-1]
            if not SECRET_KEY.search(leaf) or value in (None, "", "null"):
                continue
            total += 1
            text = str(value).strip()
            if not PROTECTED.match(text):
                unprotected.append({"file": rel, "line": line, "field": key, "masked": secret_scan.mask(text)})
    return unprotected, total


@guarded
def secrets_at_rest(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    root = ctx.target.root
    min_entropy = float(ctx.params.get("min_entropy", 3.0))
    exclude = tuple(ctx.params.get("exclude", ()))
    now = ctx.clock()
    allow_path = root / ctx.params.get("allowlist", secret_scan.ALLOWLIST_FILE)
    try:
        entries = secret_allowlist.load(allow_path)
    except secret_allowlist.AllowlistError as exc:
        return CheckResult(status=Status.ERROR, message=f"{requirement.id}: {exc}")
    if allow_path.is_file():
        ctx.record_artifact(allow_path)  # who acknowledged what, and why: part of the evidence
    unprotected, fields = config_secret_fields(ctx, ctx.params.get("config", "config/**/*"))
    history: Future | None = None
    pool = ThreadPoolExecutor(1)
    max_commits = int(ctx.params.get("max_commits", 2000))
    history_timeout = float(ctx.params.get("history_timeout_s", 60))
    if ctx.params.get("history", True):
        # `git log -p` is a subprocess: it runs on another core while this thread scans the files.
        history = pool.submit(secret_scan.scan_history, root, min_entropy, max_commits, history_timeout, exclude, now)
    try:
        files_found, file_info = secret_scan.scan_files(root, min_entropy, exclude, now=now)
        history_info: dict
        if history is not None:
            try:
                hist_found, history_info = history.result()
            except gitrepo.GitError as exc:
                # History is half of the requirement: an unscanned history cannot pass as clean.
                return CheckResult(status=Status.ERROR, message=f"{requirement.id}: git history not scanned: {exc}")
        else:
            hist_found, history_info = [], {"history": "not scanned (history: false)"}
    finally:
        pool.shutdown(wait=True)
    if gitrepo.is_repo(root):
        try:  # the scanned state, so a reviewer can reproduce the scan
            file_info["commit"] = gitrepo.git(root, "rev-parse", "HEAD").strip()
        except gitrepo.GitError:
            pass
    history_detail = history_details(history_info, max_commits, history_timeout)
    if history_detail.get("failures"):  # the cap and the clone's depth are settings; these went wrong
        ctx.log.warning("%s: git history scanned in part: %s", requirement.id, history_detail["summary"])
    files_found, acked_files, _ = secret_allowlist.split(files_found, entries)
    hist_found, acked_hist, _ = secret_allowlist.split(hist_found, entries)
    used = {e.index for _, e in acked_files + acked_hist}
    stale = [e for e in entries if e.index not in used]
    for e in stale:
        ctx.log.warning("%s: %s entry %d (fingerprint %s) matches no finding: remove it or fix the fingerprint",
                        requirement.id, allow_path.name, e.index, e.fingerprint)
    acknowledged, acked_seen = [], {f.fingerprint for f, _ in acked_files} | {f.fingerprint for f in files_found}
    for f, e in acked_files + [(f, e) for f, e in acked_hist if f.fingerprint not in acked_seen]:
        acked_seen.add(f.fingerprint)  # a key in history counts once, and not at all when also in the tree
        acknowledged.append({**f.as_dict(), "acknowledge": None, "reason": e.reason,
                             "acknowledged_by": e.acknowledged_by})
    in_tree = {f.fingerprint for f in files_found}
    history_only = {f.fingerprint for f in hist_found} - in_tree
    if not files_found and not history_only and not configfiles.config_files(root, ctx.params.get("config", "config/**/*")):
        # Nothing leaked, but nothing shows where keys live either: no evidence of encryption.
        return CheckResult(status=Status.MISSING, details={**file_info, "history_scan": history_info["history"],
                                                           "history": history_detail},
                           message=f"{requirement.id}: no plaintext key found, but the target has no configuration "
                                   "files showing how API keys are stored (referenced or encrypted)")
    metrics = {"plaintext_secrets": len(files_found), "plaintext_secrets_history": len(history_only),
               "sensitive_fields": fields, "sensitive_fields_unprotected": len(unprotected),
               "secrets_acknowledged": len(acknowledged)}
    parts = [f"{len(files_found)} plaintext secret(s) in files", f"{len(history_only)} more only in git history",
             f"{len(unprotected)}/{fields} config secret fields unprotected"]
    if history_detail.get("incomplete"):
        parts.append(history_detail["summary"])
    if acknowledged:
        parts.append(f"{len(acknowledged)} acknowledged in {allow_path.name}")
    if stale:
        parts.append(f"{len(stale)} {allow_path.name} entr{'y' if len(stale) == 1 else 'ies'} match no finding "
                     f"(warning: {', '.join(e.fingerprint for e in stale[:5])})")
    first = (files_found or [f for f in hist_found if f.fingerprint in history_only] or [None])[0]
    if first is not None:
        parts.append(f"to acknowledge a false positive add to {allow_path.name}: - {{fingerprint: {first.fingerprint}, "
                     f"path: {first.path}, rule: {first.rule}, reason: ..., acknowledged_by: ...}}")
    seen: set[str] = set()
    history_rows = []
    for f in hist_found:
        if f.fingerprint in history_only and f.fingerprint not in seen:
            seen.add(f.fingerprint)
            history_rows.append(f.as_dict())
    return observe(CheckResult(
        metrics=metrics, message="; ".join(parts),
        details={"file_findings": [f.as_dict() for f in files_found[:100]], "history_findings": history_rows[:100],
                 "acknowledged": [{k: v for k, v in a.items() if v is not None} for a in acknowledged[:100]],
                 "allowlist": {"file": allow_path.name, "present": allow_path.is_file(), "entries": len(entries),
                               "unmatched": [{"entry": e.index, "fingerprint": e.fingerprint} for e in stale]},
                 "config_fields_unprotected": unprotected[:100], **file_info, "history_scan": history_info["history"],
                 "history": history_detail,
                 "masking": "first 4 characters and length; fingerprint = first 12 hex of sha256",
                 "rules": list(secret_scan.KNOWN_FORMATS) + [f"assignment with entropy >= {min_entropy:g} bits/char"],
                 "rules_doc": "docs/secret-scanning.md"},
    ), "files scanned for secrets", (), events=file_info.get("files_scanned", 0))


def history_details(info: dict, max_commits: int, timeout_s: float) -> dict:
    """What the history scan covered and what it did not, from scan_history's info: counts,
    the max_commits cap, shallow and partial clones, unreadable commits (missing or corrupt
    objects) and commits not reached (time budget); ``summary`` says it in one phrase."""
    if "commits_listed" not in info:  # not a git repository, or history: false
        return {"scanned": False, "note": info.get("history", "")}
    listed, scanned, total = info["commits_listed"], info["commits_scanned"], info["commits_total"]
    unreadable, not_scanned = info.get("unreadable_commits", []), info.get("not_scanned_commits", [])
    out = {"scanned": True, "commits_scanned": scanned, "commits_listed": listed, "commits_total": total,
           "commits_not_scanned": max(total - scanned, 0), "max_commits": max_commits, "timeout_s": timeout_s,
           "capped_by_max_commits": total > listed, "shallow": bool(info.get("shallow")),
           "partial_clone": list(info.get("partial_clone") or []), "unreadable_commits": unreadable,
           "not_scanned_commits": not_scanned, "truncated": bool(info.get("truncated"))}
    failures = []  # lists are capped at 50 entries by the scanner: "50+"
    if not_scanned:
        reasons = sorted({n["reason"] for n in not_scanned})
        failures.append(f"warning: {len(not_scanned)}{'+' * (len(not_scanned) >= 50)} not scanned: "
                        + ", ".join(reasons))
    if unreadable:
        failures.append(f"warning: {len(unreadable)}{'+' * (len(unreadable) >= 50)} not read completely "
                        "(missing or corrupt objects)")
    if "walk stopped early" in info.get("history", ""):  # git could not list past a missing or corrupt commit
        failures.append("warning: the history walk stopped early, older commits not listed")
    why = []
    if total > listed:
        why.append(f"the {total - listed} oldest not scanned: max_commits {max_commits}")
    if out["shallow"]:
        why.append("shallow clone: older history not in the repository")
    if out["partial_clone"]:
        why.append("partial clone: blobs never fetched not scanned")
    why += failures
    out["incomplete"], out["failures"] = bool(why), len(failures)
    out["summary"] = f"git history: {scanned} of {total} commit(s) scanned" + (f" ({'; '.join(why)})" if why else "")
    return out


SCHEMA = {
    "type": "object",
    "properties": {"config": {"type": "string"}, "history": {"type": "boolean"},
                   "max_commits": {"type": "integer", "minimum": 1},
                   "history_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
                   "min_entropy": {"type": "number", "minimum": 0},
                   "exclude": {"type": "array", "items": {"type": "string"}},
                   "allowlist": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
