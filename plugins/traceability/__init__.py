"""golive's traceability family: the trading team's own tests and results, linked to requirements.

Hooks:

* ``golive_test_sources(target)`` -- pytest tests read statically from source (never imported),
  standalone golive result files, and JUnit XML / pytest-json-report files whose outcomes are
  merged onto the tests they ran (see :mod:`.discovery`);
* ``golive_checks()`` -- ``traceability.linked_tests``, the check the engine uses for every
  requirement without a ``check`` block (see :mod:`.check`).

Functions for the engine: :func:`link` and :func:`uncovered` (see :mod:`.linking`),
:func:`discover` for a full scan with its warnings, and the glob helpers.
"""
from __future__ import annotations

from golive import hookimpl
from golive.model import CheckSpec, Target, TestRecord

from .check import LINKED_TESTS, linked_tests
from .discovery import CONTAINER_KINDS, RESULT_FILE_KINDS, Discovery, TracedTestRecord, discover
from .globs import GlobError, glob_match, glob_to_regex
from .linking import coverage_reason, link, uncovered

__all__ = [
    "CONTAINER_KINDS", "RESULT_FILE_KINDS", "Discovery", "GlobError", "TracedTestRecord",
    "coverage_reason", "discover", "glob_match", "glob_to_regex", "link", "linked_tests",
    "uncovered", "golive_checks", "golive_test_sources",
]


@hookimpl
def golive_test_sources(target: Target) -> list[TestRecord]:
    return list(discover(target).records)


@hookimpl
def golive_checks() -> list[CheckSpec]:
    return [LINKED_TESTS]
