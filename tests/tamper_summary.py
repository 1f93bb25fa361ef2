"""The ledger tamper suite's tally (issue 15): every tamper case says whether it was detected,
and tests/conftest.py prints "ledger tamper suite: N/N detected" at the end of the session.

A case is either a test marked ``@pytest.mark.tamper`` (detected when the test passes: each
asserts that verify, verify-proof, a witness or verify-report refused the tampered evidence) or
a ``tamper_case(name, detected)`` call inside a test that tries several. A case stated as
undetectable by design (the key holder's rewrite checked with the log's key alone, a field the
ledger never recorded) is recorded with ``expected=False`` and listed apart. Cases travel on
the test reports (``user_properties``), so the tally is whole under pytest-xdist too.
"""
from __future__ import annotations

PENDING: list[tuple[str, bool, bool]] = []   # recorded by the running test, moved onto its report
TALLY: dict[str, tuple[bool, bool]] = {}     # case -> (detected, detection expected), whole session
PROPERTY = "ledger-tamper-case"


def tamper_case(name: str, detected: bool, expected: bool = True) -> bool:
    """Record one tamper case of the running test; returns ``detected``."""
    PENDING.append((name, bool(detected), expected))
    return detected


def take_pending() -> list[tuple[str, bool, bool]]:
    cases = list(PENDING)
    PENDING.clear()
    return cases


def summary_lines() -> list[str]:
    if not TALLY:
        return []
    expected = {n: d for n, (d, e) in TALLY.items() if e}
    by_design = {n: d for n, (d, e) in TALLY.items() if not e}
    lines = [f"ledger tamper suite: {sum(expected.values())}/{len(expected)} detected"]
    lines += [f"  NOT detected: {n}" for n, d in expected.items() if not d]
    for n, d in by_design.items():
        lines.append(f"  undetectable by design (documented): {n}{' -- but it was detected' if d else ''}")
    return lines
