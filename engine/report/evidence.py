"""The evidence side of a report: the run's identifiers and ledger head, how to verify them,
the signed attestations, and the thresholds a tailoring loosened.

A loosened threshold is never silent: every format lists it in its tailoring section and marks
the threshold row it relaxed (issue 14, point 5).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

from golive.report import analysis


@dataclass(frozen=True)
class LoosenedView:
    """A threshold the run's tailoring relaxed: the plan's and the tailored value, and why."""

    requirement_id: str
    metric: str
    before: str
    after: str
    reason: str


def loosened(doc: Mapping[str, Any]) -> tuple[LoosenedView, ...]:
    """From the tailoring summary when the run recorded one, else from ``thresholds[].loosened``."""
    changes = [c for c in ((doc.get("tailoring") or {}).get("changes") or ())
               if c.get("kind") == "threshold" and c.get("loosened")]
    if changes:
        return tuple(LoosenedView(str(c.get("requirement", "")), str(c.get("after", "")).split(" ", 1)[0],
                                  str(c.get("before", "")), str(c.get("after", "")), str(c.get("reason", "")))
                     for c in changes)
    return tuple(LoosenedView(str(r["requirement_id"]), str(t.get("metric", "")), "plan's threshold",
                              f"{t.get('metric')} {t.get('op')} {t.get('value')} {t.get('unit') or ''}".strip(), "")
                 for r in doc.get("results", []) for t in r.get("thresholds") or () if t.get("loosened"))


KEY_PROTECTIONS = {  # run.ledger.key_protection -> the appendix line (golive.ledger.keysource)
    "passphrase": "passphrase: the signing key file is encrypted with a passphrase",
    "agent": "agent: the signing key is held by an ssh-agent; the store keeps only its public key",
    "environment": "environment: the signing key was provided by the environment (a CI secret); the store "
                   "keeps only its public key",
    "none": "none -- NOT protected: the signing key file is not encrypted; whoever can read the store's keys/ "
            "folder can re-sign history (protect it: golive keys init --passphrase, --agent or --from-env)",
}


@dataclass(frozen=True)
class Evidence:
    run_id: str
    started: str
    finished: str
    target: str
    golive_version: str
    plan_id: str
    plan_version: str
    plan_digest: str
    tailoring_digest: str
    ledger: Mapping[str, Any] | None
    results_sha256: str
    verify_commands: tuple[str, ...]  # from a results.json in hand (HTML, Markdown)
    # whether ``golive report`` checked the results against the ledger before rendering
    # (golive.ledger.bind); None when the renderer is not ``golive report`` (``golive run --report``)
    ledger_check: str | None = None

    @property
    def key_protection(self) -> str:
        """Whether the store's signing key was protected when the run was signed: an unencrypted
        key file lets whoever reads it re-sign history (only a witness or a pinned checkpoint
        would tell)."""
        ledger = self.ledger or {}
        how, state = ledger.get("key_protection"), ledger.get("key_protected")
        if how in KEY_PROTECTIONS:
            return KEY_PROTECTIONS[how]
        if state is True:
            return "passphrase: the signing key file is encrypted with a passphrase"
        if state is False:
            return KEY_PROTECTIONS["none"]
        return "unknown (the run did not record it)"

    @property
    def pdf_verify_commands(self) -> tuple[str, ...]:
        """The PDF carries its results.json: take it out first."""
        return ("pdfdetach -saveall report.pdf      # writes the attached results.json", *self.verify_commands)


def with_ledger_check(ev: Evidence, statement: str) -> Evidence:
    """``ev`` saying what the ledger check found: in the appendix table (HTML, PDF) and as the
    first line of the verify commands, which every format prints. Never read from the document:
    a results file cannot vouch for itself."""
    return replace(ev, ledger_check=statement, verify_commands=(f"# ledger check: {statement}", *ev.verify_commands))


def attached_files(items: Any) -> tuple[dict[str, Any], ...]:
    """The files attached to an attestation or waiver as every format lists them: ``{"path",
    "sha256", "size"}`` (plain dicts, so the results document carries them as they are)."""
    return tuple({"path": str(f.get("path", "")), "sha256": str(f.get("sha256", "")),
                  "size": f.get("size") if isinstance(f.get("size"), int) else None}
                 for f in items or () if isinstance(f, Mapping))


@dataclass(frozen=True)
class AttestationView:
    """A signed attestation: one that verified a manual requirement in this run, or (``supporting``)
    one recorded as supporting evidence for a requirement its check verifies. ``statement`` is
    the person's memo; ``files`` the files attached to it, each with its sha256 and size."""

    requirement_id: str
    title: str
    attested_by: str
    role: str
    statement: str
    time: str
    expires: str
    key_id: str
    files: tuple[dict[str, Any], ...] = ()
    supporting: bool = False
    seq: int | None = None  # its ledger entry


def _attestation_view(r: Mapping[str, Any], a: Mapping[str, Any], supporting: bool) -> AttestationView:
    return AttestationView(
        requirement_id=r["requirement_id"], title=r.get("title", ""), attested_by=a.get("attested_by") or "",
        role=a.get("role") or "", statement=a.get("statement") or "", time=str(a.get("time") or "")[:19],
        expires=a.get("expires") or "no expiry", key_id=str(a.get("author_key_id") or "")[:16],
        files=attached_files(a.get("files")), supporting=supporting,
        seq=a.get("seq") if isinstance(a.get("seq"), int) else None)


def attestations(doc: Mapping[str, Any]) -> tuple[AttestationView, ...]:
    views = []
    for r in doc["results"]:
        details = r.get("details") or {}
        if details.get("attestation"):
            views.append(_attestation_view(r, details["attestation"], supporting=False))
        views += [_attestation_view(r, a, supporting=True) for a in details.get("supporting_attestations") or ()
                  if isinstance(a, Mapping)]
    return tuple(views)


def evidence(doc: Mapping[str, Any]) -> Evidence:
    run = doc["run"]
    plan = run.get("plan") or {}
    ledger = run.get("ledger")
    # The attached results.json holds run.ledger, which `evidence verify --checkpoint` accepts:
    # one file both proves the report's figures and pins the ledger head it was rendered from.
    commands = ["sha256sum results.json            # must equal the results.json sha256 above"]
    if ledger:
        commands += ["golive evidence verify --checkpoint results.json   # add --store DIR or --db URL if not the default",
                     f"golive evidence show {run.get('id', '')}"]
    return Evidence(
        run_id=str(run.get("id", "")), started=str(run.get("started", "")),
        finished=str(run.get("finished", "")), target=str(run.get("target", "")),
        golive_version=str(run.get("golive_version", "")), plan_id=str(plan.get("id", "")),
        plan_version=str(plan.get("version", "")), plan_digest=str(plan.get("digest", "")),
        tailoring_digest=str(run.get("tailoring_digest") or ""), ledger=ledger,
        results_sha256=analysis.document_sha256(doc), verify_commands=tuple(commands))
