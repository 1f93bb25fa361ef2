"""JUnit XML: one testcase per requirement, one testsuite per phase, for CI systems.

Mapping: ``pass`` -> passed; ``fail``/``partial``/``missing`` -> ``<failure>`` (type is the
status); ``error`` -> ``<error>``; ``skipped`` -> ``<skipped>``; ``waived`` -> ``<skipped>``
with the approver and expiry in the message, so CI shows it without counting it as a pass.
Run id, plan digest and ledger head go into ``<properties>`` so a CI artefact can be traced
back to the signed evidence; so do the readiness verdict (``readiness``, ``readiness_reason_N``),
the figures (``figure_covered``, ``figure_failing``...), the scope and the signature state, and
the root ``<testsuites>`` carries ``readiness`` as an attribute for CI systems that show only it.
Each testcase's properties carry the memos and attached files (with sha256) of its waiver and
attestations.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from golive.report.evidence import AttestationView
from golive.report.model import RenderModel, RequirementRow

FAILURES = ("fail", "partial", "missing")
# Characters XML 1.0 cannot carry at all; evidence text may contain them (binary log lines).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: object) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def _message(r: RequirementRow) -> str:
    if r.status == "missing" and not r.reason:
        return "not implemented: no test or evidence covers this requirement"
    return _x(r.reason or r.status)


def _details(r: RequirementRow) -> str:
    lines = [f"{r.id} {r.title}", f"status: {r.status}"]
    if r.recorded_status != r.status:
        lines.append(f"recorded status: {r.recorded_status}")
    lines += [f"{t.metric}: expected {t.expected}{' (LOOSENED by tailoring)' if t.loosened else ''}, "
              f"observed {t.observed}, {'met' if t.passed else 'not met'}" for t in r.thresholds]
    if r.covered_by:
        lines.append("covered by: " + ", ".join(r.covered_by))
    return _x("\n".join(lines))


def _testcase(suite: ET.Element, r: RequirementRow, attestations: tuple[AttestationView, ...] = ()) -> None:
    case = ET.SubElement(suite, "testcase", classname=f"golive.{r.section}",
                         name=_x(f"{r.id} {r.title}"), time="0")
    if r.status in FAILURES:
        node = ET.SubElement(case, "failure", message=_message(r), type=r.status)
        node.text = _details(r)
    elif r.status == "error":
        node = ET.SubElement(case, "error", message=_message(r), type="error")
        node.text = _details(r)
    elif r.status == "skipped":
        ET.SubElement(case, "skipped", message=_message(r))
    elif r.status == "waived" and r.waiver is not None:
        ET.SubElement(case, "skipped", message=_x(
            f"waived by {r.waiver.approved_by} until {r.waiver.expires}: {r.waiver.reason} "
            f"(recorded status {r.recorded_status})"))
    props = ET.SubElement(case, "properties")
    for name, value in (("priority", r.priority), ("category", r.category), ("status", r.status),
                        *authored_properties(r, attestations)):
        ET.SubElement(props, "property", name=name, value=_x(value))


def authored_properties(r: RequirementRow, attestations: tuple[AttestationView, ...]) -> list[tuple[str, str]]:
    """The memos and attached files of the requirement's waiver and attestations, each file with
    its sha256: ``waiver_memo``, ``waiver_file_N``, ``attestation_N`` and ``attestation_N_file_M``."""
    props: list[tuple[str, str]] = []
    if r.waiver is not None:
        props.append(("waiver_memo", f"{r.waiver.approved_by}: {r.waiver.reason}"))
        props += [(f"waiver_file_{j}", _file(f)) for j, f in enumerate(r.waiver.files, start=1)]
    mine = [a for a in attestations if a.requirement_id == r.id]
    for i, a in enumerate(mine, start=1):
        kind = "supporting attestation" if a.supporting else "attestation"
        props.append((f"attestation_{i}", f"{kind} by {a.attested_by}{f' ({a.role})' if a.role else ''}: {a.statement}"))
        props += [(f"attestation_{i}_file_{j}", _file(f)) for j, f in enumerate(a.files, start=1)]
    return props


def _file(f) -> str:  # noqa: ANN001 -- an attached file {"path", "sha256", "size"}
    return f"{f['path']} sha256={f['sha256']}" + (f" size={f['size']}" if f["size"] is not None else "")


def _run_properties(model: RenderModel) -> list[tuple[str, str]]:
    e = model.evidence
    props = [("readiness", model.verdict.state)]
    props += [(f"readiness_reason_{i}", reason) for i, reason in enumerate(model.verdict.reasons, start=1)]
    props += [(f"figure_{name}", str(count)) for name, count, _ in model.figures.items()]
    props += [("scope", model.scope.text), ("signature", model.signature.text),
              ("run_id", e.run_id), ("plan_digest", e.plan_digest),
              ("ledger_head", str((e.ledger or {}).get("head") or ""))]
    props += [(f"provenance_{label.lower().replace(' ', '_')}", value) for label, value in model.provenance.rows]
    props += [(f"loosened_{x.requirement_id}", f"{x.before} -> {x.after}") for x in model.loosened]
    return props


def render_junit(model: RenderModel) -> bytes:
    e = model.evidence
    root = ET.Element("testsuites", name=f"golive {model.plan_title}: {model.verdict.state}",
                      tests=str(len(model.requirements)), readiness=model.verdict.state)
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for phase in model.phases:
        reqs = [r for s in phase.sections for r in s.requirements]
        counts = {"failures": sum(r.status in FAILURES for r in reqs),
                  "errors": sum(r.status == "error" for r in reqs),
                  "skipped": sum(r.status in ("skipped", "waived") for r in reqs)}
        for key, n in counts.items():
            totals[key] += n
        suite = ET.SubElement(root, "testsuite", name=f"{phase.number}. {phase.title}",
                              tests=str(len(reqs)), timestamp=e.finished, time="0",
                              **{k: str(v) for k, v in counts.items()})
        props = ET.SubElement(suite, "properties")
        for name, value in _run_properties(model):
            ET.SubElement(props, "property", name=name, value=_x(value))
        for r in reqs:
            _testcase(suite, r, model.attestations)
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("skipped", str(totals["skipped"]))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(model: RenderModel, out_path: Path) -> Path:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(render_junit(model))
    return out_path
