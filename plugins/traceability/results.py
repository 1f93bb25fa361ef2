"""Read the trading team's test results: JUnit XML, pytest-json-report JSON, golive result JSON.

Three shapes are understood:

* JUnit XML (``<testsuites>``/``<testsuite>`` with ``<testcase classname name time>``; a
  ``<failure>``, ``<error>`` or ``<skipped>`` child sets the outcome);
* pytest-json-report (``{"created": epoch, "tests": [{"nodeid", "outcome", "duration"}]}``;
  the duration may also sit in the ``setup``/``call``/``teardown`` stages);
* a standalone golive result (``{"test": name, "status": "passed", "timestamp": ...,
  "metrics": {...}}``, optionally ``"requirements": [ids]`` and ``"duration_s"``), which is a
  test of its own rather than the outcome of a pytest function.

Bad entries are skipped one at a time: a ``<testcase>`` without a name, or a report entry
without a ``nodeid`` or with an unknown outcome, is left out with a warning naming the file and
the case index, and the rest of the file still counts. A JUnit file that declares tests
(``tests="6"``) but holds no ``<testcase>`` is reported as unreadable rather than read as an
empty run. A ``<testcase file="...">`` attribute (pytest's ``xunit1`` family) is kept so the
outcome can be matched to the right file.

:func:`sniff` looks at the first few KB of a file to tell, cheaply, whether it could be one of
these shapes; discovery uses it for ``.xml``/``.json`` files outside the usual result folders.

XML is untrusted input: a document type or entity declaration is refused before parsing, which
rules out external entities (XXE) and entity expansion bombs; ``defusedxml`` is used instead when
it is installed. A file that is malformed, too big or in none of these shapes is reported as a
warning naming the file and skipped.
"""
from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
import xml.parsers.expat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

try:  # pragma: no cover - depends on the environment
    from defusedxml import DefusedXmlException as _DefusedXmlException
    from defusedxml.ElementTree import fromstring as _safe_fromstring
except ImportError:  # pragma: no cover
    _safe_fromstring = None
    _DefusedXmlException = None

MAX_RESULT_BYTES = 64 * 1024 * 1024  # a results file bigger than this is not a results file
OUTCOME_SYNONYMS = {
    "passed": "passed", "pass": "passed", "success": "passed", "succeeded": "passed", "ok": "passed",
    "xpassed": "passed",
    "failed": "failed", "fail": "failed", "failure": "failed",
    "error": "error", "errored": "error",
    "skipped": "skipped", "skip": "skipped", "xfailed": "skipped", "deselected": "skipped",
}
_FILENAME_STAMP = re.compile(r"(20\d{2})(\d{2})(\d{2})(?:[_T-]?(\d{2})(\d{2})(\d{2}))?")


class UnsafeXMLError(ValueError):
    """The XML declares a DOCTYPE or entities: refused, never expanded."""


@dataclass(frozen=True)
class CaseResult:
    """One executed test inside a JUnit or pytest-json-report file."""

    outcome: str
    duration_s: float | None
    nodeid: str = ""  # pytest-json-report: the node id as pytest printed it
    classname: str = ""  # JUnit: dotted module path [+ class]
    name: str = ""  # JUnit: the function name (with any [params])
    requirements: tuple[str, ...] = ()  # golive's pytest plugin: the test's requirement ids
    source_sha256: str = ""  # golive's pytest plugin: digest of the test file that ran
    file: str = ""  # JUnit ``file=`` attribute (pytest xunit1): the test file, relative to pytest's rootdir

    @property
    def label(self) -> str:
        return self.nodeid or f"{self.classname}::{self.name}"


@dataclass
class ResultFile:
    """A parsed result file (``path`` relative to the target root, POSIX)."""

    path: str
    format: str  # junit | pytest-json-report | golive-json
    timestamp: datetime | None
    cases: list[CaseResult] = field(default_factory=list)
    # golive-json only: the standalone result itself
    name: str = ""
    outcome: str | None = None
    duration_s: float | None = None
    requirements: tuple[str, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)


def normalise_outcome(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return OUTCOME_SYNONYMS.get(value.strip().lower())


SNIFF_BYTES = 8192
_XML_SNIFF = re.compile(rb"<(testsuites|testsuite)[\s>/]")
_JSON_SNIFF = (b'"nodeid"', b'"golive_pytest_results"', b'"exitcode"')


def sniff(path: Path) -> bool:
    """Whether the start of ``path`` looks like a JUnit report, a pytest-json-report or a golive
    result -- a cheap filter before a full parse (which decides). Unreadable files: False."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    if path.suffix.lower() == ".xml":
        return _XML_SNIFF.search(head) is not None
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        return False
    return any(key in head for key in _JSON_SNIFF) or (b'"test"' in head and b'"status"' in head)


def read_result_file(path: Path, rel: str, warn: Callable[[str], None]) -> ResultFile | None:
    """Parse one ``.xml`` or ``.json`` file; problems go to ``warn`` and give ``None``."""
    try:
        size = path.stat().st_size
        if size > MAX_RESULT_BYTES:
            warn(f"traceability: {rel}: {size} bytes is larger than the {MAX_RESULT_BYTES} byte limit for a result file; skipped")
            return None
        data = path.read_bytes()
    except OSError as exc:
        warn(f"traceability: {rel}: cannot read ({exc}); skipped")
        return None
    fallback_time = _filename_time(rel) or _mtime(path)
    try:
        if path.suffix.lower() == ".xml":
            return _read_junit(data, rel, fallback_time, warn)
        return _read_json(data, rel, fallback_time, warn)
    except _NotAResultFile as exc:
        warn(f"traceability: {rel}: {exc}; skipped")
    except UnsafeXMLError as exc:
        warn(f"traceability: {rel}: refused: {exc}")
    except (ET.ParseError, xml.parsers.expat.ExpatError) as exc:
        warn(f"traceability: {rel}: malformed XML ({exc}); skipped")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        warn(f"traceability: {rel}: malformed JSON ({exc}); skipped")
    except Exception as exc:  # defusedxml raises its own classes; never let one file stop the run
        warn(f"traceability: {rel}: cannot parse ({type(exc).__name__}: {exc}); skipped")
    return None


class _NotAResultFile(ValueError):
    pass


# -- XML ------------------------------------------------------------------------------------

def _refuse_declarations(data: bytes) -> None:
    """Run expat over the bytes (it detects the encoding) and stop at any DOCTYPE/ENTITY."""
    scanner = xml.parsers.expat.ParserCreate()

    def refuse_doctype(name, *_):
        raise UnsafeXMLError(f"DOCTYPE declaration <!DOCTYPE {name}> is not allowed in a result file (XXE/entity expansion risk)")

    def refuse_entity(name, *_):
        raise UnsafeXMLError(f"ENTITY declaration {name!r} is not allowed in a result file (XXE/entity expansion risk)")

    scanner.StartDoctypeDeclHandler = refuse_doctype
    scanner.EntityDeclHandler = refuse_entity
    scanner.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    scanner.Parse(data, True)


def parse_xml_safely(data: bytes) -> ET.Element:
    if _safe_fromstring is not None:  # pragma: no cover - defusedxml not installed here
        try:
            return _safe_fromstring(data, forbid_dtd=True)
        except _DefusedXmlException as exc:
            # Same refusal, same wording as without defusedxml: callers report "refused".
            raise UnsafeXMLError(f"DOCTYPE or ENTITY declaration is not allowed in a result file "
                                 f"(XXE/entity expansion risk): {exc!r}") from None
    _refuse_declarations(data)
    return ET.fromstring(data)


MAX_NAMED_CASES = 5  # skipped cases named in one warning before "and N more"


def _report_skipped(rel: str, skipped: list[str], total: int, warn: Callable[[str], None]) -> None:
    """One warning per file for the cases left out, naming the first few."""
    if not skipped:
        return
    shown = "; ".join(skipped[:MAX_NAMED_CASES])
    more = f"; and {len(skipped) - MAX_NAMED_CASES} more" if len(skipped) > MAX_NAMED_CASES else ""
    warn(f"traceability: {rel}: {len(skipped)} of {total} test case(s) skipped ({shown}{more}); "
         "the other cases of the file count")


def _declared_tests(elements: list[ET.Element]) -> int:
    declared = [int(n) for n in (_number(e.get("tests")) for e in elements) if n is not None and n > 0]
    return max(declared, default=0)


def _read_junit(data: bytes, rel: str, fallback_time: datetime | None,
                warn: Callable[[str], None] = lambda _m: None) -> ResultFile:
    root = parse_xml_safely(data)
    if root.tag not in ("testsuites", "testsuite"):
        raise _NotAResultFile(f"XML root <{root.tag}> is not a JUnit <testsuites>/<testsuite> report")
    suites = list(root.iter("testsuite"))  # iter() includes the root itself
    stamps = [t for t in (_parse_time(s.get("timestamp")) for s in suites) if t is not None]
    elements = list(root.iter("testcase"))
    if not elements:
        declared = _declared_tests([root] + suites)
        if declared:
            raise _NotAResultFile(f"unreadable: the file declares {declared} test(s) but holds no <testcase> elements")
    cases: list[CaseResult] = []
    skipped: list[str] = []
    for index, element in enumerate(elements):
        case = _junit_case(element)
        if case is None:
            classname = element.get("classname", "")
            skipped.append(f"<testcase> #{index}{f' (classname {classname!r})' if classname else ''} has no name")
        else:
            cases.append(case)
    _report_skipped(rel, skipped, len(elements), warn)
    return ResultFile(path=rel, format="junit", timestamp=max(stamps) if stamps else fallback_time, cases=cases)


def _junit_case(case: ET.Element) -> CaseResult | None:
    outcome = "passed"
    for child in case:
        if child.tag == "error":
            outcome = "error"
            break
        if child.tag == "failure":
            outcome = "failed"
        elif child.tag == "skipped" and outcome == "passed":
            outcome = "skipped"
    name = (case.get("name") or "").strip()
    if not name:
        return None
    return CaseResult(outcome=outcome, duration_s=_number(case.get("time")),
                      classname=(case.get("classname") or "").strip(), name=name,
                      file=(case.get("file") or "").strip())


# -- JSON -----------------------------------------------------------------------------------

def _read_json(data: bytes, rel: str, fallback_time: datetime | None,
               warn: Callable[[str], None] = lambda _m: None) -> ResultFile:
    doc = json.loads(data.decode("utf-8-sig"))
    if isinstance(doc, dict) and isinstance(doc.get("tests"), list):
        return _read_report(doc, rel, fallback_time, warn)
    if isinstance(doc, dict) and "test" in doc and "status" in doc:
        return _read_golive(doc, rel, fallback_time)
    raise _NotAResultFile(
        'JSON is neither a pytest-json-report ({"tests": [{"nodeid", "outcome"}]}) nor a golive '
        'result ({"test", "status", "timestamp", "metrics"})'
    )


def _read_report(doc: dict, rel: str, fallback_time: datetime | None,
                 warn: Callable[[str], None] = lambda _m: None) -> ResultFile:
    cases: list[CaseResult] = []
    skipped: list[str] = []
    entries = doc["tests"]
    if entries and not any(isinstance(e, dict) and "nodeid" in e for e in entries):
        raise _NotAResultFile('no entry of "tests" has a "nodeid": not a pytest-json-report')
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("nodeid"), str) or not entry["nodeid"].strip():
            skipped.append(f'tests[{index}] has no "nodeid" string')
            continue
        outcome = normalise_outcome(entry.get("outcome"))
        if outcome is None:
            skipped.append(f'tests[{index}] ({entry["nodeid"]}): unknown outcome {entry.get("outcome")!r}')
            continue
        duration = _number(entry.get("duration"))
        if duration is None:
            stages = [_number((entry.get(s) or {}).get("duration")) for s in ("setup", "call", "teardown")
                      if isinstance(entry.get(s), dict)]
            duration = sum(d for d in stages if d is not None) if any(d is not None for d in stages) else None
        reqs = entry.get("requirements")
        reqs = tuple(r for r in reqs if isinstance(r, str)) if isinstance(reqs, list) else ()
        digest = entry.get("source_sha256") if isinstance(entry.get("source_sha256"), str) else ""
        cases.append(CaseResult(outcome=outcome, duration_s=duration, nodeid=entry["nodeid"].strip(),
                                requirements=reqs, source_sha256=digest))
    _report_skipped(rel, skipped, len(entries), warn)
    stamp = _parse_time(doc.get("created")) or fallback_time
    return ResultFile(path=rel, format="pytest-json-report", timestamp=stamp, cases=cases)


def _read_golive(doc: dict, rel: str, fallback_time: datetime | None) -> ResultFile:
    name = doc["test"]
    if not isinstance(name, str) or not name.strip():
        raise _NotAResultFile('"test" must be a non-empty string')
    outcome = normalise_outcome(doc["status"])
    if outcome is None:
        raise _NotAResultFile(f'"status" {doc["status"]!r} is not one of passed, failed, error, skipped')
    metrics = doc.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise _NotAResultFile('"metrics" must be an object')
    requirements = doc.get("requirements") or []
    if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
        raise _NotAResultFile('"requirements" must be a list of requirement id strings')
    duration = _number(doc.get("duration_s", doc.get("duration", metrics.get("duration_s"))))
    return ResultFile(path=rel, format="golive-json", timestamp=_parse_time(doc.get("timestamp")) or fallback_time,
                      name=name.strip(), outcome=outcome, duration_s=duration,
                      requirements=tuple(r.strip() for r in requirements if r.strip()), metrics=metrics)


# -- small helpers --------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _parse_time(value: Any) -> datetime | None:
    """ISO 8601 text or epoch seconds -> aware UTC datetime (naive text is taken as UTC)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        try:
            stamp = datetime.strptime(text, "%Y%m%d_%H%M%S")
        except ValueError:
            return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _filename_time(rel: str) -> datetime | None:
    """``..._20250611_204804.json`` -> 2025-06-11 20:48:04 UTC."""
    match = _FILENAME_STAMP.search(rel.rsplit("/", 1)[-1])
    if not match:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc)
    except ValueError:
        return None


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    except OSError:
        return None
