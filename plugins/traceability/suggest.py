"""Link recovery: rank candidate requirements for tests that no confirmed link covers.

CONTRACT (shared by the runner, the reports and ``golive link``); the ranking itself is being
written -- until then :func:`suggest_links` returns no suggestions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from golive.model import Requirement, TestRecord

BANDS = ("high", "medium", "low")  # confidence bands, best first
COUNTED_BANDS = ("high", "medium")  # bands that count in the "if confirmed" figure


@dataclass(frozen=True)
class Suggestion:
    """One suggested link: ``test_id`` probably covers ``requirement_id``."""

    requirement_id: str
    test_id: str  # TestRecord.id: a pytest node id, or a result file's path
    path: str  # the file the test is in (POSIX, relative to the target root)
    score: float  # ranking score, comparable within one run
    band: str  # one of BANDS
    why: tuple[str, ...]  # matched terms, e.g. ("mbo~order book", "pressure", "path: ifd")
    rank: int = 1  # 1 = the best candidate for this test

    def as_dict(self) -> dict:
        return {"requirement_id": self.requirement_id, "test": self.test_id, "path": self.path,
                "score": round(self.score, 4), "band": self.band, "why": list(self.why), "rank": self.rank}


def suggest_links(requirements: Sequence[Requirement], records: Iterable[TestRecord], root: Path,
                  confirmed: Mapping[str, Sequence[TestRecord]] | None = None,
                  top_k: int = 3) -> list[Suggestion]:
    """Suggestions for every test record not covered by a confirmed link (``confirmed``:
    requirement id -> records, as :func:`golive.plugins.traceability.link` returns), at most
    ``top_k`` per test, best first. Result containers (JUnit, pytest-json-report) get none."""
    return []
