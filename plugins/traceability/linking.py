"""Link requirements to the tests and result files that cover them; find the tests that cover none.

A record covers a requirement when a link is *confirmed* by

* a marker: one of the record's marker ids equals the requirement's id or one of its
  ``covered_by.markers``, or
* the reviewed map file (``golive-links.yaml``, see :mod:`.mapfile`): an entry of the
  requirement names the record, its file or its class, or
* it is a test (``pytest`` / ``result-case``) whose node id or file path matches a glob of
  ``covered_by.tests``, or
* it is a result file (``result-json``, ``junit``, ``pytest-json-report``) whose path matches a
  glob of ``covered_by.results``.

Pure functions over the shared dataclasses: the engine calls them once per run.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from golive.model import Requirement, TestRecord

from .discovery import CONTAINER_KINDS, RESULT_FILE_KINDS
from .globs import any_glob_match

if TYPE_CHECKING:
    from .mapfile import LinkMap

__all__ = ["coverage_reason", "link", "uncovered"]


def coverage_reason(requirement: Requirement, record: TestRecord, link_map: LinkMap | None = None) -> str | None:
    """Why ``record`` covers ``requirement`` (``"marker X"``, ``"map golive-links.yaml
    (confirmed by N on D)"``, ``"tests glob G"``, ``"results glob G"``), or ``None`` when it
    does not."""
    wanted = {requirement.id, *requirement.covered_by.markers}
    for marker in record.requirements:
        if marker in wanted:
            return f"marker {marker}"
    if link_map is not None:
        entry = link_map.entry_covering(requirement.id, record)
        if entry is not None:
            return f"map {link_map.label} (confirmed by {entry.confirmed_by} on {entry.confirmed_at})"
    candidates = (record.id, record.path)
    if record.kind in RESULT_FILE_KINDS:
        pattern = any_glob_match(candidates, requirement.covered_by.results)
        return f"results glob {pattern}" if pattern else None
    pattern = any_glob_match(candidates, requirement.covered_by.tests)
    return f"tests glob {pattern}" if pattern else None


def link(requirements: Iterable[Requirement], records: Iterable[TestRecord],
         link_map: LinkMap | None = None) -> dict[str, list[TestRecord]]:
    """``{requirement id: [records covering it]}`` for every requirement (empty list when none),
    records in the order given, each at most once per requirement. ``link_map`` is the target's
    loaded map file (:func:`.mapfile.load_for_target`), if any.

    Same answer as asking :func:`coverage_reason` for every (requirement, record) pair, without
    the pairs: records are indexed by marker id, and only requirements with map entries or
    ``covered_by`` globs look at records one by one (94 requirements x 10,000 tests would be a
    million calls otherwise)."""
    records = list(records)
    by_marker: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        for marker in record.requirements:
            by_marker.setdefault(marker, []).append(index)
    links: dict[str, list[TestRecord]] = {}
    for requirement in requirements:
        hits: set[int] = set()
        for marker in (requirement.id, *requirement.covered_by.markers):
            hits.update(by_marker.get(marker, ()))
        needs_scan = (requirement.covered_by.tests or requirement.covered_by.results
                      or (link_map is not None and link_map.for_requirement(requirement.id)))
        if needs_scan:
            hits.update(i for i, record in enumerate(records)
                        if i not in hits and coverage_reason(requirement, record, link_map) is not None)
        covering = links.setdefault(requirement.id, [])
        covering.extend(records[i] for i in sorted(hits))
    return links


def uncovered(records: Iterable[TestRecord], links: dict[str, list[TestRecord]]) -> list[TestRecord]:
    """Tests that cover no requirement: the report's "additional tests beyond requirements".

    Result files that only hold other tests' outcomes (JUnit, pytest-json-report) are not
    tests themselves and are never listed.
    """
    linked = {record.id for covering in links.values() for record in covering}
    return [r for r in records if r.kind not in CONTAINER_KINDS and r.id not in linked]
