"""``--only``: choosing which requirements a run covers.

A selector matches by requirement id (exact, case-insensitive, or a glob like ``PRE-FEED-*``),
section id, phase (number or id), check plugin, priority or category. A ``kind:value`` prefix
(``phase:2``, ``plugin:feed``, ``priority:P1``, ``section:RISK``, ``category:security``,
``id:OPS-0?``) removes ambiguity. Several selectors (repeated or comma-separated) add up.
"""
from __future__ import annotations

import fnmatch
from typing import Iterable

from golive.model import Plan, Requirement

KINDS = ("id", "section", "phase", "plugin", "priority", "category")


class SelectionError(ValueError):
    pass


def _phase_keys(plan: Plan, number: int) -> set[str]:
    keys = {str(number)}
    for p in plan.phases:
        if p.number == number:
            keys.add(p.id.lower())
    return keys


def _values(plan: Plan, req: Requirement) -> dict[str, set[str]]:
    return {
        "id": {req.id.lower()},
        "section": {req.section.lower()},
        "phase": _phase_keys(plan, req.phase),
        "plugin": {req.check.plugin.lower()} if req.check else ({"manual"} if req.manual else {"traceability"}),
        "priority": {req.priority.lower()},
        "category": {req.category.lower()},
    }


def _matches(token: str, values: dict[str, set[str]]) -> bool:
    kind, sep, value = token.partition(":")
    if sep and kind in KINDS:
        kinds, value = (kind,), value
    else:
        kinds, value = KINDS, token
    value = value.lower()
    for k in kinds:
        for v in values[k]:
            if v == value or (k == "id" and fnmatch.fnmatchcase(v, value)):
                return True
    return False


def select(plan: Plan, selectors: Iterable[str]) -> list:
    tokens = [t.strip() for s in selectors for t in s.split(",") if t.strip()]
    reqs = plan.requirements
    if not tokens:
        return list(reqs)
    chosen = []
    matched_tokens: set[str] = set()
    for req in reqs:
        values = _values(plan, req)
        hit = [t for t in tokens if _matches(t, values)]
        if hit:
            chosen.append(req)
            matched_tokens.update(hit)
    unmatched = [t for t in tokens if t not in matched_tokens]
    if unmatched:
        raise SelectionError(
            f"--only {', '.join(unmatched)} matches no requirement; use an id (PRE-FEED-03 or PRE-FEED-*), "
            f"a section id, a phase number, a plugin, a priority (P1) or a category, optionally as kind:value"
        )
    return chosen
