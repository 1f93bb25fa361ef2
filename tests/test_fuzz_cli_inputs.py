"""Fuzzing the CLI's file inputs: a bad file is a message naming it, never a traceback.

Each input the CLI reads from a file -- a results document and a waivers file (``golive report``), a checkpoint
(``golive evidence verify --checkpoint``), plan files (``golive validate``), a tailoring file
(``golive run --tailoring``) and ``golive.toml`` in a target (``golive run``) -- starts from a
valid file and is truncated, has bytes flipped or inserted, is nested thousands of levels deep,
has a value replaced by one of another type, or loses a field. Every command must end with exit
0, 1 (where 1 has its documented meaning) or 2, with no traceback, and an exit 2 must name the
file. Examples are bounded so the whole module stays fast; deep nesting and the reported cases
are explicit examples, always run. The offline checkers' inputs (proof bundles, audit trails,
report PDFs: ``evidence verify-bundle``, ``verify-trail``, ``verify-report``) are fuzzed with
these mutations in tests/test_tlog_fuzz.py.
"""
from __future__ import annotations

import csv
import json
import os
import random
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from golive.cli import cli
from golive.ledger import LedgerRecorder, Store, default_signer
from golive.ledger.simulate import record_run
from golive.plugins.records.common import standalone_context
from golive.plugins.records.contract import TABLES
from golive.plugins.records.reader import RecordsError, load

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RESULTS = ROOT / "tests" / "data" / "report" / "sample-results.json"
PACKAGED_PLAN = ROOT / "requirements"
SECTION = "6-compliance/compliance-audit.yaml"
TAILORING = """tailoring: {id: staging, title: Staging}
overrides:
  - requirement: AUD-06
    reason: staging reconciles against a paper account
    thresholds:
      - {metric: breaks, op: "==", value: 1, unit: count}
  - requirement: AUD-01
    not_applicable: no order audit trail in staging
"""
GOLIVE_TOML = """[paths]
records = "records"
logs = "logs"

[settings]
exchange_calendar = "XNYS"
expected_components = ["feed", "broker"]
"""
DEEP = 5000  # far beyond Python's recursion limit for its recursive parsers
# GOLIVE_FUZZ_EXAMPLES=500 searches harder (minutes); CI keeps the default bounded and repeatable
EXAMPLES = int(os.environ.get("GOLIVE_FUZZ_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 12,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
RUNNER = CliRunner()

# --- mutations ------------------------------------------------------------------------------

odd_values = st.sampled_from([None, True, 0, -1, 10**40, 1e308, "", "zero", "1e309", [], {}, [1, "a"],
                              {"a": {"b": None}}, "2026-13-45", "\u0000", "x" * 300])


def _paths(node, at=()):
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, at + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, at + (index,))


def _replace(node, path, value, drop=False):
    if not path:
        return value
    parent = node
    for step in path[:-1]:
        parent = parent[step]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    elif drop:
        parent.pop(path[-1])
    else:
        parent[path[-1]] = value
    return node


def mutate(text: str, fmt: str, how: str, rnd: random.Random, value=None) -> str:
    """One mutation of a valid ``json``/``yaml``/``toml`` text."""
    if how == "truncate":
        return text[: rnd.randrange(len(text))]
    if how == "flip":
        raw = bytearray(text.encode("utf-8"))
        for _ in range(rnd.randint(1, 8)):
            raw[rnd.randrange(len(raw))] ^= 1 << rnd.randrange(8)
        return raw.decode("utf-8", "surrogateescape")
    if how == "insert":
        at = rnd.randrange(len(text))
        return text[:at] + rnd.choice(["{", "]", "\"", ":", "\n  - ", "\t", "= =", "\\u", "&a *a", "!!python/object:os.system"]) + text[at:]
    if how == "deep":
        nest = "[" * DEEP + "]" * DEEP
        if fmt == "json":
            return '{"schema_version": ' + nest + "}" if rnd.random() < 0.5 else nest
        if fmt == "yaml":
            return "overrides: " + nest + "\n" if rnd.random() < 0.5 else "- " * 600 + "x\n"
        return "a = " + nest + "\n"
    if fmt == "toml":  # retype/drop on a TOML text: replace or remove one assignment's value
        lines = text.splitlines()
        assigned = [i for i, line in enumerate(lines) if "=" in line]
        i = rnd.choice(assigned)
        if how == "drop":
            del lines[i]
        else:
            key = lines[i].split("=", 1)[0]
            lines[i] = key + "= " + rnd.choice(['1', '"x"', '[1, "a"]', "{a = 1}", "true", "1979-05-27", "inf",
                                                 "[[1]]", '"../../etc"', '"/etc"'])
        return "\n".join(lines) + "\n"
    data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    paths = list(_paths(data))[1:] or [()]
    target = rnd.choice(paths)
    data = _replace(data, target, value, drop=how == "drop" and bool(target))
    return json.dumps(data) if fmt == "json" else yaml.safe_dump(data, sort_keys=False)


mutations = st.tuples(st.sampled_from(["truncate", "flip", "insert", "deep", "retype", "retype", "drop"]),
                      st.integers(0, 2**32), odd_values)


def check_outcome(result, path: Path, allowed=(0, 2)) -> None:
    """Exit code allowed, no traceback, and an input error names the file."""
    output = result.output
    assert "Traceback" not in output, output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}\n{output}")
    assert result.exit_code in allowed, (result.exit_code, output)
    if result.exit_code == 2:
        assert path.name in output.replace("\n", ""), output


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


# --- results document: golive report ---------------------------------------------------------

@pytest.fixture(scope="module")
def results_v2(tmp_path_factory, small_plan):
    """A schema-2 document (verdict, figures) written by a real run of the small plan."""
    base = tmp_path_factory.mktemp("run")
    (base / "target").mkdir()
    result = _run(small_plan, base / "target", "--json", str(base / "results.json"))
    assert result.exit_code in (0, 1), result.output
    return (base / "results.json").read_text()


@given(st.sampled_from(["1", "2"]), st.sampled_from(["json", "md", "junit", "oscal"]), mutations)
@FUZZ
@example("1", "json", ("deep", 0, None))
@example("2", "md", ("deep", 1, None))
def test_report_on_a_mangled_results_document(tmp_path, results_v2, version, fmt, mutation):
    how, seed, value = mutation
    seed_text = SAMPLE_RESULTS.read_text() if version == "1" else results_v2
    path = write(tmp_path / "results.json", mutate(seed_text, "json", how, random.Random(seed), value))
    result = RUNNER.invoke(cli, ["report", str(path), "-f", fmt, "-o", str(tmp_path / f"out.{fmt}")])
    check_outcome(result, path)


WAIVERS = """- requirement_id: PRE-PIPE-04
  approver: Head of risk
  reason: the pipeline timing is measured on the staging host
  expires: "2027-01-31"
  created: "2026-11-01"
"""


@given(mutations)
@FUZZ
@example(("deep", 0, None))
@example(("flip", 5, None))
def test_report_with_mangled_waivers(tmp_path, mutation):
    how, seed, value = mutation
    path = write(tmp_path / "waivers.yaml", mutate(WAIVERS, "yaml", how, random.Random(seed), value))
    result = RUNNER.invoke(cli, ["report", str(SAMPLE_RESULTS), "-f", "json", "-o", str(tmp_path / "out.json"),
                                 "--waivers", str(path)])
    check_outcome(result, path)


@pytest.mark.parametrize("damage, field", [
    (lambda d: d["coverage"]["by_section"][0].pop("title"), "coverage.by_section[0].title"),
    (lambda d: d["run"].update(ledger={"size": "x"}), "run.ledger.size"),
    (lambda d: d["run"].update(ledger=5), "run.ledger: expected null or object"),
    (lambda d: d["results"][0].update(details={"attestation": 5}), "results[0].details.attestation"),
])
def test_report_names_what_is_wrong_in_the_document(tmp_path, damage, field):
    """The reported cases: a missing coverage title (KeyError) and a malformed run.ledger
    (jinja2 UndefinedError) are input errors naming the field."""
    doc = json.loads(SAMPLE_RESULTS.read_text())
    damage(doc)
    path = write(tmp_path / "results.json", json.dumps(doc))
    result = RUNNER.invoke(cli, ["report", str(path), "-f", "md", "-o", str(tmp_path / "out.md")])
    check_outcome(result, path)
    assert result.exit_code == 2 and field in result.output.replace("\n", "")


# --- checkpoint: golive evidence verify --checkpoint ---------------------------------------

@pytest.fixture(scope="module")
def store_with_checkpoint(tmp_path_factory):
    base = tmp_path_factory.mktemp("ledger")
    store = Store(base / "evidence")
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    record_run(recorder, 3, base)
    checkpoint = json.dumps(dict(recorder.head))
    store.close()
    return base / "evidence", checkpoint


@given(mutations)
@FUZZ
@example(("deep", 0, None))
@example(("deep", 1, None))
def test_verify_with_a_mangled_checkpoint(tmp_path, store_with_checkpoint, mutation):
    store_dir, checkpoint = store_with_checkpoint
    how, seed, value = mutation
    path = write(tmp_path / "checkpoint.json", mutate(checkpoint, "json", how, random.Random(seed), value))
    result = RUNNER.invoke(cli, ["evidence", "verify", "--store", str(store_dir), "--checkpoint", str(path)])
    # 1 means "the ledger does not extend this checkpoint": a well-formed checkpoint of another history
    check_outcome(result, path, allowed=(0, 1, 2))
    if how == "deep":
        assert result.exit_code == 2  # never "tampered" for an unreadable file


# --- plan files: golive validate -----------------------------------------------------------

@pytest.fixture(scope="module")
def small_plan(tmp_path_factory):
    """The packaged plan.yaml with its compliance section only: real checks, fast to validate."""
    root = tmp_path_factory.mktemp("plan")
    plan = yaml.safe_load((PACKAGED_PLAN / "plan.yaml").read_text())
    plan["sections"] = [SECTION]
    (root / "6-compliance").mkdir()
    (root / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    shutil.copy(PACKAGED_PLAN / SECTION, root / SECTION)
    assert RUNNER.invoke(cli, ["validate", str(root)]).exit_code == 0
    return root


@given(st.sampled_from(["plan.yaml", SECTION]), mutations)
@FUZZ
@example(SECTION, ("deep", 0, None))
@example("plan.yaml", ("deep", 1, None))
def test_validate_a_mangled_plan(tmp_path, small_plan, file, mutation):
    how, seed, value = mutation
    root = tmp_path / "plan"
    shutil.copytree(small_plan, root, dirs_exist_ok=True)
    path = write(root / file, mutate((small_plan / file).read_text(), "yaml", how, random.Random(seed), value))
    result = RUNNER.invoke(cli, ["validate", str(root)])
    check_outcome(result, path)


# --- tailoring and golive.toml: golive run -------------------------------------------------

def _run(small_plan: Path, target: Path, *extra: str):
    return RUNNER.invoke(cli, ["run", "-t", str(target), "--plan", str(small_plan), "--only", "AUD-06",
                               "--no-evidence", "-q", *extra])


@given(mutations)
@FUZZ
@example(("deep", 0, None))
@example(("retype", 3, "zero"))
def test_run_with_a_mangled_tailoring(tmp_path, small_plan, mutation):
    how, seed, value = mutation
    (tmp_path / "target").mkdir(exist_ok=True)
    path = write(tmp_path / "tailoring.yaml", mutate(TAILORING, "yaml", how, random.Random(seed), value))
    result = _run(small_plan, tmp_path / "target", "--tailoring", str(path))
    check_outcome(result, path, allowed=(0, 1, 2))  # 1: the run found gaps (an empty target)


@given(mutations)
@FUZZ
@example(("deep", 0, None))
def test_run_with_a_mangled_golive_toml(tmp_path, small_plan, mutation):
    how, seed, value = mutation
    target = tmp_path / "target"
    target.mkdir(exist_ok=True)
    path = write(target / "golive.toml", mutate(GOLIVE_TOML, "toml", how, random.Random(seed), value))
    result = _run(small_plan, target)
    check_outcome(result, path, allowed=(0, 1, 2))


# --- records: a value out of range names its file and row -----------------------------------

@pytest.mark.parametrize("price", ["1e309", "-1e309", "1E+400", "123456789012345678901"])
def test_an_out_of_range_price_names_file_and_row(tmp_path, price):
    """The reported case: ``1e309`` made pnl checks fail with a bare decimal.InvalidOperation."""
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "fills.csv").write_text(
        "ts,fill_id,order_id,symbol,side,qty,price,fees\n"
        "2026-10-06T14:41:20Z,F1,O1,NQZ6,sell,1,20884.25,2.25\n"
        f"2026-10-06T15:00:21Z,F2,O2,NQZ6,buy,1,{price},2.25\n")
    with pytest.raises(RecordsError) as caught:
        load(standalone_context(tmp_path), "fills", need=["ts", "fill_id", "price"])
    assert caught.value.file == "records/fills.csv" and caught.value.row == 2 and caught.value.column == "price"
    assert "out of range" in str(caught.value) or "not a finite" in str(caught.value)


def test_a_large_but_real_amount_is_read_exactly(tmp_path):
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "fills.csv").write_text(
        "ts,fill_id,order_id,symbol,side,qty,price,fees\n"
        "2026-10-06T14:41:20Z,F1,O1,NQZ6,sell,1,12345678901234567890.25,2.25\n")
    frame = load(standalone_context(tmp_path), "fills", need=["price"])
    assert frame["price"].iloc[0] == Decimal("12345678901234567890.25")


def test_the_unmutated_inputs_are_accepted(tmp_path, store_with_checkpoint, small_plan):
    """The seeds are valid, so every failure above comes from the mutation."""
    waivers = write(tmp_path / "waivers.yaml", WAIVERS)
    result = RUNNER.invoke(cli, ["report", str(SAMPLE_RESULTS), "-f", "json", "-o", str(tmp_path / "out.json"),
                                 "--waivers", str(waivers)])
    assert result.exit_code == 0, result.output
    assert '"waived"' in (tmp_path / "out.json").read_text()
    store_dir, checkpoint = store_with_checkpoint
    path = write(tmp_path / "checkpoint.json", checkpoint)
    result = RUNNER.invoke(cli, ["evidence", "verify", "--store", str(store_dir), "--checkpoint", str(path)])
    assert result.exit_code == 0, result.output
    target = tmp_path / "target"
    target.mkdir()
    write(target / "golive.toml", GOLIVE_TOML)
    result = _run(small_plan, target, "--tailoring", str(write(tmp_path / "tailoring.yaml", TAILORING)))
    assert result.exit_code in (0, 1), result.output  # 1: an empty target has gaps, nothing else
    assert "error:" not in result.output, result.output


@pytest.mark.parametrize("value, unit, shown", [([], "ms", "ms"), ([1, 2], "ms", "1–2 ms"), ([5], None, "5"),
                                                ({"value": [], "unit": "%"}, None, "%")])
def test_threshold_values_of_any_shape_are_shown(value, unit, shown):
    """A schema-valid threshold value of an odd shape (an empty range) is printed, not an IndexError."""
    from golive.report.inputs import fmt_value

    assert fmt_value(value, unit).strip() == shown


# --- records: any cell in any table is read or refused naming file, column and row ----------

cells = (st.sampled_from(["", " ", "nan", "NaN", "inf", "-Infinity", "1e309", "1E+400", "-0", "0x10", "1_000",
                          "2026-02-30", "2026-10-06T25:00:00Z", "yes", "maybe", "1.5", "10000000000000000000000",
                          "\u00a0", "=cmd|' /C calc'!A0", "'", '"', "9" * 400])
         | st.text(max_size=12) | st.integers().map(str) | st.floats().map(repr))


@given(st.sampled_from(sorted(TABLES)), st.data())
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_records_cells_are_read_or_refused_with_file_column_and_row(tmp_path_factory, name, data):
    spec = TABLES[name]
    columns = [c.name for c in spec.columns]
    rows = data.draw(st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns)), min_size=1, max_size=3))
    root = tmp_path_factory.mktemp("records")
    (root / "records").mkdir()
    with (root / "records" / f"{name}.csv").open("w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)
    try:
        frame = load(standalone_context(root), name, optional=columns)
    except RecordsError as exc:
        assert exc.file == f"records/{name}.csv" and str(exc).startswith(exc.file)
        if exc.row is not None:
            assert 1 <= exc.row <= len(rows) and exc.column in columns
        return
    assert len(frame) == len(rows)


@pytest.mark.parametrize("strategy, mode", [("no-such-strategy", None), (None, "no-such-mode"), ("ev", "shadow")])
def test_a_signal_filter_matching_nothing_keeps_the_columns(strategy, mode):
    """A schema-valid ``strategy``/``mode`` param that matches no signal used to drop every column
    (an empty object mask given to ``[]`` selects columns), and the check crashed with a KeyError."""
    import pandas as pd

    from golive.plugins.records.checkutil import signals_of

    frame = pd.DataFrame({"signal_id": ["S1", "S2"], "strategy": ["ifd", "ifd"], "mode": ["live", "live"],
                          "emitted": pd.Series([True, None], dtype=object)})
    out = signals_of(frame, strategy, mode)
    assert list(out.columns) == list(frame.columns) and out.empty
    assert list(signals_of(frame)["signal_id"]) == ["S1", "S2"]  # unset emitted counts as emitted


@pytest.mark.parametrize("name, args", [("stdev", ([1e200, -1e200, 3.0],)), ("sharpe", ([1e200, -1e200, 3.0],)),
                                        ("sortino", ([-1e200, 1e300, 2.0],)), ("pearson", ([1e200, 2.0], [3.0, -1e200])),
                                        ("welch_t", ([1e200, -1e200, 1.0], [1.0, 2.0, 3.0]))])
def test_statistics_on_extreme_finite_records_values_never_raise(name, args):
    """Finite floats a records file can hold (1e200 P&L) made ``x ** 2`` raise OverflowError and
    business.performance crash; the statistic is now inf or NaN, which no threshold passes."""
    from golive.plugins.records import stats

    result = getattr(stats, name)(*args)
    assert all(isinstance(v, (int, float)) for v in (result if isinstance(result, tuple) else (result,)))
