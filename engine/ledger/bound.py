"""What ``golive report`` renders of a recorded run: every field from the ledger, the run's plan,
or marked as coming from the derived file (issue 15.4, the fields ``bind`` does not compare).

``bind.check_document`` compares the results, counts, waivers and signed head with the ledger.
The rest of ``<store>/runs/<run>.json`` that a report prints is handled here:

* **run facts** the ``run-started`` / ``run-finished`` entries hold (started, finished, target,
  host, golive version, plan id/version/digest, selection, tailoring digest; provenance and jobs
  for runs recorded since they are) -- :func:`check_run_facts` refuses a document that differs;
* **everything the ledger holds** is then rendered from the ledger: :func:`bound_document` is
  ``bind.rebuild_document`` (results, summary counts and rates, coverage groups, waivers, signed
  head) plus those run facts;
* **what the plan defines** (plan title, requirement and phase counts, source lines, the
  readiness policy the verdict is computed with) comes from the plan whose digest the run
  recorded, when the report has it (the packaged plan or ``--plan``);
* **the test list and outcomes** (``tests[]``): the run-finished entry records their digest
  (``tests_sha256``, since it does); a different list is refused, ``covers`` is re-derived from
  the bound results;
* **the rest** has no ledger source (the test list of older runs, additional tests, suggested links,
  "covered via" reasons, warnings, the plugin list, group titles and the policy without the
  run's plan): :func:`unbound_fields` names what the document carries of it, and the report's
  ledger-check line says it was taken from the derived file, unverified.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from golive.ledger.bind import Mismatch, NotRecorded, RecordedRun, read_run, rebuild_document
from golive.ledger.secrets import redact
from golive.ledger.store import Store

# document field under run -> (entry, payload path); "started" is the run-started entry
RUN_FACTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("started", "started", ("started",)),
    ("finished", "finished", ("finished",)),
    ("target", "started", ("target",)),
    ("host", "started", ("environment", "host")),
    ("golive_version", "started", ("environment", "golive_version")),
    ("plan.id", "started", ("plan", "id")),
    ("plan.version", "started", ("plan", "version")),
    ("plan.digest", "started", ("plan", "digest")),
    ("plan.requirements", "started", ("plan", "requirements")),
    ("selection", "started", ("selection",)),
    ("tailoring_digest", "started", ("tailoring_digest",)),
    ("provenance", "started", ("provenance",)),  # recorded since issue 15.4's binding
    ("jobs", "started", ("jobs",)),
    ("authored", "started", ("authored",)),  # the attestations and waivers in scope, where recorded
    ("tests_sha256", "finished", ("tests_sha256",)),  # digest of tests[] (results.tests_sha256)
    ("extras_sha256", "finished", ("extras_sha256",)),  # digest of the rest (results.extras_sha256)
    ("extras_warnings", "finished", ("extras_warnings",)),  # how many warnings that digest covers
)
MISSING = object()

# rendered fields no entry holds: (document path, what the report calls it)
UNBOUND: tuple[tuple[tuple[str, ...], str], ...] = (
    (("tests",), "the test list and outcomes"),
    (("additional_tests",), "additional tests"),
    (("additional_test_files",), "additional test files"),
    (("results", "*", "covered_via"), "'covered via' reasons"),
    (("results", "*", "suggested"), "suggested links"),
    (("summary", "if_confirmed"), "'if confirmed' figures"),
    (("summary", "test_files"), "test and result file counts"),
    (("warnings",), "run warnings"),
    (("plugins",), "the plugin list"),
    (("tailoring",), "the tailoring summary (its digest is recorded)"),
)
EXTRAS_LABELS = {"additional_tests": "additional tests", "additional_test_files": "additional test files",
                 "covered_via": "'covered via' reasons", "suggested": "suggested links",
                 "if_confirmed": "'if confirmed' figures", "warnings": "run warnings",
                 "plugins": "plugin list", "tailoring": "tailoring summary"}
EXTRAS_PATHS = tuple(path for path, _label in UNBOUND if path not in (("tests",), ("summary", "test_files")))
WITHOUT_PLAN = ((("coverage",), "group titles"), (("summary", "verdict", "policy"), "the readiness policy"),
                (("run", "plan", "title"), "the plan's title, source lines and phase count"))


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if not isinstance(value, Mapping) or step not in value:
            return MISSING
        value = value[step]
    return value


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def check_run_facts(store: Store, doc: Mapping[str, Any], where: str = "the results document",
                    tests: bool = True, extras: bool = True) -> None:
    """Refuse (:class:`bind.Mismatch`) a document whose run facts (and, with ``tests``, test
    list; with ``extras``, the rest: :func:`extras_changed`) differ from the run's run-started /
    run-finished entries; facts an older run did not record are not compared."""
    run_id = str((doc.get("run") or {}).get("id") or "")
    recorded = read_run(store, run_id)
    if recorded is None or recorded.finished is None:
        raise NotRecorded(f"{where} claims run {run_id!r}, which the ledger at {store.path} holds no finished run of")
    for field, entry, path in RUN_FACTS:
        seq, payload = recorded.started if entry == "started" else recorded.finished
        truth = _dig(payload, path)
        if truth is MISSING:
            continue
        claimed = _dig(doc.get("run") or {}, tuple(field.split(".")))
        if claimed is MISSING or (claimed != truth and redact(claimed) != truth):  # the ledger holds it masked
            name, claimed, truth = _difference(f"run.{field}", None if claimed is MISSING else claimed, truth)
            raise Mismatch(f"{where} says {name} {_show(claimed)}; the ledger's run-{entry} entry {seq} "
                           f"records {_show(truth)}")
    if tests and not tests_match(recorded, doc):
        seq, finished = recorded.finished
        raise Mismatch(f"{where}'s tests[] (the test list and outcomes) is not the list the run recorded: its "
                       f"sha256 differs from the ledger's run-finished entry {seq} ({finished['tests_sha256'][:16]}...)")
    changed = extras_changed(recorded, doc) if extras else []
    if changed:
        seq, _finished = recorded.finished
        raise Mismatch(f"{where}'s {' and '.join(changed)} differ from what the run recorded: the sha256 in the "
                       f"ledger's run-finished entry {seq} is another")


def tests_match(recorded: RecordedRun, doc: Mapping[str, Any]) -> bool:
    """Whether ``doc``'s tests[] has the digest the run-finished entry records (True when the run
    recorded none: older runs)."""
    return tests_match_finished(recorded.finished[1] if recorded.finished else {}, doc)


def tests_match_finished(finished: Mapping[str, Any], doc: Mapping[str, Any]) -> bool:
    """:func:`tests_match` against a run-finished payload (a proof bundle's, golive.ledger.bundle)."""
    from golive.results import tests_sha256

    digest = finished.get("tests_sha256")
    tests = doc.get("tests") if isinstance(doc.get("tests"), list) else []
    return not digest or tests_sha256([t for t in tests if isinstance(t, Mapping)]) == digest


def extras_changed(recorded: RecordedRun, doc: Mapping[str, Any]) -> list[str]:
    """What ``doc`` says beyond results, counts, run facts and tests (results.EXTRAS_PARTS:
    additional tests and files, 'covered via' reasons, suggested links, 'if confirmed' figures,
    the run's own warnings, the plugin list, the tailoring summary) whose digest is not the one
    the run-finished entry records, as the report names them; empty when the run recorded none
    (older runs)."""
    return extras_changed_finished(recorded.finished[1] if recorded.finished else {}, doc)


def extras_changed_finished(finished: Mapping[str, Any], doc: Mapping[str, Any]) -> list[str]:
    """:func:`extras_changed` against a run-finished payload (a proof bundle's)."""
    from golive.results import extras_sha256

    digests, count = finished.get("extras_sha256"), finished.get("extras_warnings")
    if not isinstance(digests, Mapping):
        return []
    try:
        now = extras_sha256(dict(doc), count if isinstance(count, int) else None)
    except (TypeError, ValueError, RecursionError):  # not JSON the run could have written
        now = {}
    return [EXTRAS_LABELS.get(part, part) for part in digests if now.get(part) != digests[part]]


def drop_extras(doc: dict[str, Any], parts: list[str]) -> None:
    """Remove from ``doc`` the parts (as :func:`extras_changed` names them) that differ from
    what the run recorded: a report re-made from the ledger leaves them out rather than print them."""
    names = {label: part for part, label in EXTRAS_LABELS.items()}
    for part in (names.get(p, p) for p in parts):
        if part in ("additional_tests", "additional_test_files", "warnings"):
            doc[part] = []
        elif part in ("plugins", "tailoring"):
            doc[part] = {} if part == "plugins" else None
        elif part == "if_confirmed":
            (doc.get("summary") or {}).pop("if_confirmed", None)
        else:
            for r in doc.get("results") or ():
                if isinstance(r, dict):
                    r[part] = {} if part == "covered_via" else []


def _difference(name: str, claimed: Any, truth: Any) -> tuple[str, Any, Any]:
    """The first differing field inside two objects (``run.provenance.git.commit``)."""
    while isinstance(claimed, Mapping) and isinstance(truth, Mapping):
        key = next((k for k in sorted(set(claimed) | set(truth)) if claimed.get(k) != truth.get(k)), None)
        if key is None:
            break
        name, claimed, truth = f"{name}.{key}", claimed.get(key), truth.get(key)
    return name, claimed, truth


def _set_facts(run_block: dict[str, Any], recorded: RecordedRun) -> None:
    """Put the ledger's value of every run fact it records into ``run_block``."""
    for field, entry, path in RUN_FACTS:
        value = _dig((recorded.started if entry == "started" else recorded.finished)[1], path)
        if value is MISSING:
            continue
        *parents, last = field.split(".")
        block = run_block
        for name in parents:
            block = block.setdefault(name, {})
        block[last] = value


def bound_document(store: Store, doc: Mapping[str, Any] | None, run_id: str, plan: Any = None,
                   bands: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The document a report renders for a recorded run: ``bind.rebuild_document`` with the run
    facts the ledger records and, when ``plan`` is the run's plan (same digest), what the plan
    defines. Fields with no source stay as the stored document has them (:func:`unbound_fields`)."""
    from golive.run.readiness import Policy, refresh_summary
    from golive.run.scoring import HOW_COMPUTED

    rebuilt = rebuild_document(store, doc, run_id, bands)
    recorded = read_run(store, run_id)
    _set_facts(rebuilt["run"], recorded)
    tests = rebuilt.get("tests") or []
    for test in tests:  # which requirements a test covers: the bound results say
        test["covers"] = [r["requirement_id"] for r in rebuilt["results"] if test.get("id") in (r.get("covered_by") or ())]
    if rebuilt["run"].get("tests_sha256"):  # the list is bound: so are its file counts (results.build_document)
        rebuilt["summary"]["test_files"] = len({t.get("path") for t in tests if t.get("kind") == "pytest"})
        rebuilt["summary"]["result_files"] = len({t.get("path") for t in tests if t.get("kind") != "pytest"})
    rebuilt["summary"]["how_computed"] = HOW_COMPUTED
    rebuilt["summary"]["selected"] = len(rebuilt["results"])  # every selected requirement has a result
    if _is_runs_plan(plan, rebuilt):
        rebuilt["run"]["plan"].update(title=plan.title, source_lines=plan.source_lines,
                                      requirements=len(plan.requirements), phases=len(plan.phases))
        rebuilt["summary"]["verdict"] = {"policy": Policy.from_plan(plan.readiness, getattr(plan, "signoff", None))
                                         .as_dict()}
        refresh_summary(rebuilt)
        _plan_titles(rebuilt["coverage"], plan)
    return rebuilt


def _plan_titles(coverage: dict[str, Any], plan: Any) -> None:
    """Group titles as the run's plan names them (``scoring.coverage_by_*``)."""
    titles = {"by_phase": {str(p.number): p.title for p in plan.phases},
              "by_section": {s.id: s.title for s in plan.sections},
              "by_category": {c.id: c.title for c in plan.categories},
              "by_priority": {str(k): v for k, v in plan.priorities.items()}}
    for grouping, names in titles.items():
        for group in coverage.get(grouping) or ():
            if str(group.get("id")) in names:
                group["title"] = names[str(group.get("id"))]


def _is_runs_plan(plan: Any, doc: Mapping[str, Any]) -> bool:
    digest = ((doc.get("run") or {}).get("plan") or {}).get("digest")
    return plan is not None and bool(digest) and getattr(plan, "digest", None) == digest


def unbound_fields(doc: Mapping[str, Any], plan: Any = None) -> list[str]:
    """What ``doc`` carries that no ledger entry (nor, with ``plan``, the run's plan) holds, as
    the report names it; empty parts are left out."""
    def present(value: Any, path: tuple[str, ...]) -> bool:
        if not path:
            return value not in (None, MISSING, [], {}, "")
        if path[0] == "*":
            return isinstance(value, list) and any(present(v, path[1:]) for v in value)
        return isinstance(value, Mapping) and present(value.get(path[0], MISSING), path[1:])

    parts = UNBOUND + (() if _is_runs_plan(plan, doc) else WITHOUT_PLAN)
    run = doc.get("run") or {}
    if run.get("tests_sha256"):  # checked against the run-finished entry
        parts = tuple(p for p in parts if p[0] not in (("tests",), ("summary", "test_files")))
    late = []
    if run.get("extras_sha256"):  # so is the rest, up to the warnings added after the run closed
        parts = tuple(p for p in parts if p[0] not in EXTRAS_PATHS)
        count = run.get("extras_warnings")
        shown = doc.get("warnings") if isinstance(doc.get("warnings"), list) else []
        if isinstance(count, int) and len(shown) > count:
            late = [f"{len(shown) - count} warning(s) added after the run closed (witnesses, timestamp, "
                    "notifications)"]
    return [label for path, label in parts if present(doc, path)] + late


def unbound_note(doc: Mapping[str, Any], plan: Any = None) -> str:
    """The sentence the report's ledger-check line ends with, or "" when nothing is unbound."""
    names = unbound_fields(doc, plan)
    if not names:
        return ""
    return ("taken from the derived file and not recorded in the ledger (unverified): " + ", ".join(names))
