"""Section REG (issue 18.2): the regulatory checks, each judged with the plan's own thresholds.

Per check: a small hand-written target that passes, one that fails for the reason the check
exists, and ``missing`` when the records hold nothing to judge (never pass on nothing); a bad
inventory is an ``error`` naming the file; the throttle and duplicate rules agree with a brute-force
count on random order streams (Hypothesis). Then the demo: the healthy workspace passes all six
and each fault the degraded profile injects is reported by its check.
"""
from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golive.model import Status
from golive.plan import load
from golive.plugins import regulatory
from golive.plugins.regulatory.control_rules import violations
from golive.plugins.regulatory.inventory import Control
from golive.plugins.records.common import standalone_context
from golive.run.verdict import judge

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import write_records  # noqa: E402
from examples.regulatory_fixtures import FAULTS, write_regulatory  # noqa: E402

NOW = datetime(2026, 11, 3, 21, 0, tzinfo=timezone.utc)
PLAN = load()
SPECS = {m.SPEC.name: m.SPEC for m in regulatory.MODULES}
CHECK_OF = {r.id: r.check.name for r in PLAN.requirements if r.check and r.check.plugin == "regulatory"}

INVENTORY = """\
algorithms:
  - id: ALGO-1
    owner: desk head
    strategies: [ifd]
    venues: [XCME]
    limits: {max_order_qty: 2}
    limits_set: "2026-10-01T00:00:00Z"
    approved_operators: [T1]
    last_material_change: {date: "2026-09-28"}
pretrade_controls:
  - {id: C-COLLAR, kind: price_collar, limit: {max_deviation_pct: 2}, set: "2026-10-01T00:00:00Z"}
  - {id: C-VALUE, kind: max_order_value, limit: {max_value_usd: 1000000}, set: "2026-10-01T00:00:00Z"}
  - {id: C-QTY, kind: max_order_qty, limit: {max_qty: 2}, set: "2026-10-01T00:00:00Z"}
  - {id: C-MSG, kind: message_throttle, limit: {max_messages: 2, window_s: 1}, set: "2026-10-01T00:00:00Z"}
  - {id: C-CREDIT, kind: credit_threshold, limit: {max_daily_notional_usd: 5000000}, set: "2026-10-01T00:00:00Z"}
  - {id: C-DUP, kind: duplicate_order, limit: {window_s: 2}, set: "2026-10-01T00:00:00Z"}
"""
ORDERS_HEAD = ("ts,order_id,symbol,side,qty,order_type,limit_price,stop_price,expected_price,status,ts_final,"
               "algorithm_id,trader_id,venue\n")
# two working limit orders and a filled market order, all traceable, on XCME
ORDERS = ORDERS_HEAD + (
    "2026-10-05T14:00:00Z,O1,ESZ6,buy,1,limit,5990.00,,6000.00,cancelled,2026-10-05T15:00:00.300Z,ALGO-1,T1,XCME\n"
    "2026-10-05T14:10:00Z,O2,ESZ6,sell,1,limit,6010.00,,6000.00,cancelled,2026-10-05T15:00:00.400Z,ALGO-1,T1,XCME\n"
    "2026-10-05T14:20:00Z,O3,ESZ6,buy,1,market,,,6000.00,filled,2026-10-05T14:20:00.100Z,ALGO-1,T1,XCME\n")
CANCELS = ("ts,order_id,venue,reason\n2026-10-05T15:00:00.300Z,O1,XCME,kill_switch\n"
           "2026-10-05T15:00:00.400Z,O2,XCME,kill_switch\n")
DRILLS = "drill_id,ts_triggered,ts_completed,kind\nKS-1,2026-10-05T15:00:00Z,2026-10-05T15:00:00.500Z,drill\n"
REJ_HEAD = "ts,order_id,symbol,side,qty,order_type,limit_price,reference_price,algorithm_id,trader_id,venue," \
           "control_id,observed_value,reason\n"
REJECTIONS = REJ_HEAD + (
    "2026-10-05T14:30:00Z,R1,ESZ6,buy,1,limit,6150.00,6000.00,ALGO-1,T1,XCME,C-COLLAR,2.5,collar\n"
    "2026-10-05T14:31:00Z,R2,ESZ6,buy,4,market,,6000.00,ALGO-1,T1,XCME,C-VALUE,1200000,value\n"
    "2026-10-05T14:32:00Z,R3,ESZ6,buy,3,market,,6000.00,ALGO-1,T1,XCME,C-QTY,3,qty\n"
    "2026-10-05T14:33:00Z,R4,ESZ6,buy,1,market,,6000.00,ALGO-1,T1,XCME,C-MSG,3,throttle\n"
    "2026-10-05T14:34:00Z,R5,ESZ6,buy,1,market,,6000.00,ALGO-1,T1,XCME,C-CREDIT,5100000,credit\n"
    "2026-10-05T14:35:00Z,R6,ESZ6,buy,1,market,,6000.00,ALGO-1,T1,XCME,C-DUP,0.3,duplicate\n")
CONFORMANCE = "test_id,ts,venue,result,scope\nCT-1,2026-10-02T15:00:00Z,XCME,pass,order entry and cancel\n"
INSTRUMENTS = "symbol,tick_size,multiplier,expiration\nESZ6,0.25,50,2026-12-18\n"


def workspace(root: Path, **files: str) -> Path:
    """A target with the good files, each replaceable (``orders=...``) or left out (``orders=None``)."""
    chosen = {"algorithms.yaml": INVENTORY, "orders": ORDERS, "cancels": CANCELS, "kill_switch_drills": DRILLS,
              "rejections": REJECTIONS, "conformance_tests": CONFORMANCE, "instruments": INSTRUMENTS}
    chosen.update({k.replace("_yaml", ".yaml"): v for k, v in files.items()})
    (root / "records").mkdir(parents=True, exist_ok=True)
    for name, text in chosen.items():
        if text is not None:
            path = root / name if name.endswith(".yaml") else root / "records" / f"{name}.csv"
            path.write_text(text, encoding="utf-8")
    return root


def verdict(rid: str, root: Path):
    req = PLAN.requirement(rid)
    ctx = standalone_context(root, dict(req.check.params))
    return judge(req, SPECS[req.check.name].func(req, ctx), ctx.artifacts, [], now=NOW)


def test_the_plan_names_one_check_per_regulatory_requirement():
    assert CHECK_OF == {"REG-01": "algorithm_inventory", "REG-02": "kill_drills", "REG-03": "order_traceability",
                        "REG-04": "pretrade_controls", "REG-05": "venue_conformance",
                        "REG-06": "limits_before_deployment"}
    for spec in SPECS.values():
        module = sys.modules[spec.func.__wrapped__.__module__]
        assert "REG-0" in module.__doc__ and ("RTS 6" in module.__doc__ or "15c3-5" in module.__doc__)


@pytest.mark.parametrize("rid", sorted(CHECK_OF))
def test_the_good_target_passes(tmp_path, rid):
    outcome = verdict(rid, workspace(tmp_path))
    assert outcome.status is Status.PASS, outcome.reason
    assert outcome.observed["events"] > 0 and outcome.observed["newest"]


BAD_ORDERS = ORDERS.replace("ALGO-1,T1,XCME\n", "ALGO-1,T9,XCME\n", 1)  # O1 by an unapproved trader
FAILING = {  # requirement: (files replaced, metric that breaks, its value)
    "REG-01": ({"orders": ORDERS.replace("O3,ESZ6,buy,1,market,,,6000.00,filled,2026-10-05T14:20:00.100Z,ALGO-1",
                                         "O3,ESZ6,buy,1,market,,,6000.00,filled,2026-10-05T14:20:00.100Z,ALGO-9")},
               "traded_not_in_inventory", 1),
    "REG-02": ({"cancels": CANCELS.splitlines(keepends=True)[0] + CANCELS.splitlines(keepends=True)[1]},
               "resting_not_cancelled", 1),
    "REG-03": ({"orders": BAD_ORDERS}, "orders_by_unapproved_trader", 1),
    "REG-04": ({"rejections": "".join(line for line in REJECTIONS.splitlines(keepends=True) if "C-MSG" not in line)},
               "controls_never_fired", 1),
    "REG-05": ({"conformance_tests": CONFORMANCE.replace("2026-10-02T15:00:00Z,XCME,pass", "2026-10-02T15:00:00Z,XCME,fail")},
               "venues_not_conformance_tested", 1),
    "REG-06": ({"algorithms_yaml": INVENTORY.replace('limits_set: "2026-10-01T00:00:00Z"', 'limits_set: "2026-10-06"')},
               "limits_set_after_first_order", 1),
}


@pytest.mark.parametrize("rid", sorted(FAILING))
def test_the_fault_the_check_exists_for_fails_it(tmp_path, rid):
    files, metric, value = FAILING[rid]
    outcome = verdict(rid, workspace(tmp_path, **files))
    assert outcome.status in (Status.FAIL, Status.PARTIAL), outcome.reason
    assert outcome.metrics[metric] == value and metric in outcome.reason


@pytest.mark.parametrize("rid", sorted(CHECK_OF))
def test_no_orders_is_missing_never_pass(tmp_path, rid):
    outcome = verdict(rid, workspace(tmp_path, orders=ORDERS_HEAD, rejections=REJ_HEAD, kill_switch_drills=DRILLS))
    assert outcome.status is Status.MISSING, (outcome.status, outcome.reason)


@pytest.mark.parametrize("rid", sorted(CHECK_OF))
def test_no_inventory_or_records_file_is_missing(tmp_path, rid):
    gone = {"REG-02": {"cancels": None}}.get(rid, {"algorithms_yaml": None})
    outcome = verdict(rid, workspace(tmp_path, **gone))
    assert outcome.status is Status.MISSING and "not found" in outcome.reason


@pytest.mark.parametrize("rid", ["REG-02", "REG-05"])
def test_orders_without_venues_are_no_evidence(tmp_path, rid):
    orders = ORDERS.replace(",venue\n", "\n").replace(",XCME\n", "\n")
    outcome = verdict(rid, workspace(tmp_path, orders=orders))
    assert outcome.status is Status.MISSING and "records no 'venue'" in outcome.reason


def test_a_drill_with_nothing_resting_exercised_nothing(tmp_path):
    drills = "drill_id,ts_triggered,ts_completed,kind\nKS-1,2026-10-05T16:00:00Z,2026-10-05T16:00:01Z,drill\n"
    outcome = verdict("REG-02", workspace(tmp_path, kill_switch_drills=drills))
    assert outcome.status is Status.MISSING and "not exercised" in outcome.reason


def test_a_slow_venue_fails_on_time(tmp_path):
    slow = CANCELS.replace("15:00:00.400Z", "15:00:03.400Z")
    drills = DRILLS.replace("15:00:00.500Z", "15:00:05Z")
    outcome = verdict("REG-02", workspace(tmp_path, cancels=slow, kill_switch_drills=drills))
    assert outcome.status is Status.PARTIAL and outcome.metrics["max_venue_cancel_time"].value == pytest.approx(3.4)


def test_untraceable_order_is_named(tmp_path):
    orders = ORDERS.replace("2026-10-05T14:20:00.100Z,ALGO-1,T1,XCME", "2026-10-05T14:20:00.100Z,,,XCME")
    outcome = verdict("REG-03", workspace(tmp_path, orders=orders))
    assert outcome.metrics["orders_without_algorithm"] == outcome.metrics["orders_without_trader"] == 1
    assert "(O3)" in outcome.reason


@pytest.mark.parametrize("orders, control", [
    # 3 contracts accepted: the 2-contract control let it through
    (ORDERS.replace("O3,ESZ6,buy,1,market", "O3,ESZ6,buy,3,market"), "C-QTY"),
    # a limit 3 % away from the reference price
    (ORDERS.replace("O1,ESZ6,buy,1,limit,5990.00", "O1,ESZ6,buy,1,limit,5820.00"), "C-COLLAR"),
    # three orders inside one second: over the throttle of 2
    (ORDERS.replace("14:10:00Z,O2", "14:00:00.300Z,O2").replace("14:20:00Z,O3", "14:00:00.600Z,O3")
     .replace("14:20:00.100Z", "14:00:00.700Z"), "C-MSG"),
    # the same limit order twice within 2 s
    (ORDERS.replace("14:10:00Z,O2,ESZ6,sell,1,limit,6010.00", "14:00:01Z,O2,ESZ6,buy,1,limit,5990.00"), "C-DUP"),
])
def test_a_violating_order_let_through_fails(tmp_path, orders, control):
    outcome = verdict("REG-04", workspace(tmp_path, orders=orders))
    assert outcome.metrics["violations_let_through"] >= 1, outcome.reason
    assert control in {v["control_id"] for v in outcome.details["let_through"]["items"]}


def test_a_rejection_below_its_limit_is_unjustified(tmp_path):
    rejections = REJECTIONS.replace("ALGO-1,T1,XCME,C-QTY,3,qty", "ALGO-1,T1,XCME,C-QTY,1,qty").replace(
        "R3,ESZ6,buy,3,market", "R3,ESZ6,buy,1,market")
    outcome = verdict("REG-04", workspace(tmp_path, rejections=rejections))
    assert outcome.metrics["rejections_unjustified"] == 1 and outcome.metrics["controls_never_fired"] == 1


def test_a_malformed_inventory_is_an_error_naming_the_file(tmp_path):
    bad = INVENTORY.replace("kind: price_collar", "kind: price_colar")
    outcome = verdict("REG-04", workspace(tmp_path, algorithms_yaml=bad))
    assert outcome.status is Status.ERROR and "algorithms.yaml" in outcome.reason and "kind" in outcome.reason


def test_an_incomplete_inventory_entry_fails(tmp_path):
    outcome = verdict("REG-01", workspace(tmp_path, algorithms_yaml=INVENTORY.replace("    owner: desk head\n", "")))
    assert outcome.metrics["entries_incomplete"] == 1 and "ALGO-1 lacks owner" in outcome.reason


@pytest.mark.parametrize("rid, files, metric", [
    # an order on a venue its algorithm does not list
    ("REG-01", {"orders": ORDERS.replace("ALGO-1,T1,XCME\n", "ALGO-1,T1,XEUR\n", 1)}, "orders_on_unlisted_venue"),
    # the algorithm changed materially after the venue's only passed test
    ("REG-05", {"algorithms_yaml": INVENTORY.replace('last_material_change: {date: "2026-09-28"}',
                                                     'last_material_change: {date: "2026-10-04"}')},
     "venues_not_retested_after_change"),
    # a control put in force after the algorithm first traded
    ("REG-06", {"algorithms_yaml": INVENTORY.replace('max_qty: 2}, set: "2026-10-01T00:00:00Z"',
                                                     'max_qty: 2}, set: "2026-10-06T00:00:00Z"')},
     "controls_set_after_first_order"),
])
def test_the_other_faults_each_check_measures(tmp_path, rid, files, metric):
    outcome = verdict(rid, workspace(tmp_path, **files))
    assert outcome.status in (Status.FAIL, Status.PARTIAL) and outcome.metrics[metric] == 1, outcome.reason


# --- the demo records -----------------------------------------------------------------------

FAULT_CHECK = {"throttle_never_fired": ("REG-04", "controls_never_fired"),
               "untraceable_order": ("REG-03", "orders_without_algorithm"),
               "algorithm_not_in_inventory": ("REG-01", "traded_not_in_inventory")}


@pytest.fixture(scope="module")
def demo_records(tmp_path_factory):
    """The demo's records (records_fixtures + regulatory_fixtures), clean and with every REG fault."""
    built = {}
    for name, faults in (("clean", ()), ("faulty", FAULTS)):
        root = tmp_path_factory.mktemp(name)
        write_records(root)
        built[name] = (root, write_regulatory(root, inject=faults))
    return built


@pytest.mark.parametrize("rid", sorted(CHECK_OF))
def test_demo_records_pass(demo_records, rid):
    outcome = verdict(rid, demo_records["clean"][0])
    assert outcome.status is Status.PASS, outcome.reason


@pytest.mark.parametrize("fault", FAULTS)
def test_each_demo_fault_is_reported_by_its_check(demo_records, fault):
    root, injected = demo_records["faulty"]
    rid, metric = FAULT_CHECK[fault]
    outcome = verdict(rid, root)
    assert injected[fault] and outcome.status in (Status.FAIL, Status.PARTIAL)
    assert outcome.metrics[metric] >= 1
    shown = str(outcome.reason) + str(outcome.details)
    assert str(injected[fault][0]) in shown or "IFD-3.1" in shown


def test_the_faults_stay_apart(demo_records):
    """Each fault fails its own requirement; the other REG requirements still pass."""
    root, _ = demo_records["faulty"]
    statuses = {rid: verdict(rid, root).status for rid in CHECK_OF}
    assert {rid for rid, s in statuses.items() if s is not Status.PASS} == {"REG-01", "REG-03", "REG-04"}


# --- the throttle and duplicate rules against a brute-force count ------------------------------

def _frame(offsets_ms: list[int], prices: list[int]) -> pd.DataFrame:
    start = pd.Timestamp("2026-10-05T14:00:00Z")
    times = sorted(start + timedelta(milliseconds=ms) for ms in offsets_ms)
    return pd.DataFrame({"ts": times, "order_id": [f"O{i}" for i in range(len(times))], "symbol": "ESZ6",
                         "side": "buy", "qty": 1, "order_type": "limit", "limit_price": [float(p) for p in prices],
                         "stop_price": None, "expected_price": 6000.0, "algorithm_id": "A"})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5000), min_size=1, max_size=40), st.integers(1, 5), st.integers(1, 3))
def test_throttle_flags_exactly_the_orders_beyond_the_rate(offsets, most, window_s):
    orders = _frame(offsets, [6000] * len(offsets))
    control = Control("T", "message_throttle", {"max_messages": most, "window_s": window_s}, None, None)
    flagged = {v["order_id"] for v in violations(control, orders, {})}
    window = timedelta(seconds=window_s)
    expected = {oid for oid, t in zip(orders["order_id"], orders["ts"])
                if sum(1 for u in orders["ts"][:int(oid[1:]) + 1] if u > t - window) > most}
    assert flagged == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8000), st.sampled_from([5990, 5995])), min_size=1, max_size=30))
def test_duplicate_rule_flags_an_identical_order_within_the_window(rows):
    orders = _frame([ms for ms, _ in rows], [p for _, p in sorted(rows)])
    control = Control("D", "duplicate_order", {"window_s": 2}, None, None)
    flagged = {v["order_id"] for v in violations(control, orders, {})}
    expected = set()
    for i, (t, p) in enumerate(zip(orders["ts"], orders["limit_price"])):
        earlier = [u for u, q in zip(orders["ts"][:i], orders["limit_price"][:i]) if q == p]
        if earlier and t - max(earlier) <= timedelta(seconds=2):
            expected.add(orders["order_id"][i])
    assert flagged == expected
