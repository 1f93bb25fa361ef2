"""Link recovery (traceability.suggest): quality on the unmarked reference fixture, and the
ranking's behaviour -- tokenizing, synonyms, bands, skipping confirmed tests, determinism."""
from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import numpy as np

from golive.model import CoveredBy, Requirement
from golive.model import TestRecord as Record  # aliased so pytest does not try to collect it
from golive.plan import load
from golive.plugins.traceability import suggest as S
from golive.plugins.traceability.discovery import discover
from golive.plugins.traceability.features import split_words, tokens
from golive.run.target import load_target

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_link_recovery.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_link_recovery", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def req(rid: str, title: str, statement: str = "", tags: tuple[str, ...] = ()) -> Requirement:
    return Requirement(id=rid, title=title, statement=statement, category="algorithm-validation",
                       priority="P1", plan_lines=(1, 1), section=rid.rsplit("-", 1)[0], tags=tags,
                       covered_by=CoveredBy())


REQS = [
    req("PRE-ALGO-08", "MBO pressure analysis", "Imbalance of aggressive buy and sell volume over a window."),
    req("BIZ-04", "Maximum drawdown metrics", "The largest peak-to-trough fall of equity is tracked."),
    req("RISK-04", "Emergency stop-loss procedures", "The kill switch cancels all open orders."),
    req("PRE-FEED-05", "Cache management efficiency", "Cache hit ratio and dollars saved.", ("cache",)),
]


def workspace(tmp_path: Path, files: dict[str, str]) -> list:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    return discover(load_target(tmp_path)).records


def test_reference_fixture_quality_without_markers():
    """Markers stripped, covered_by ignored: file-level pairs from top-1 counted suggestions.
    The issue's goal: precision >= 0.9 at recall >= 0.8 (measured: 0.917 / 0.805, 33 of 36
    predicted pairs right, 33 of 41 found)."""
    bench = _bench()
    result, _ = bench.run_fixture()
    assert result["truth"] == 41
    assert result["precision"] >= 0.9, result
    assert result["recall"] >= 0.8, result
    assert result["top3_recall"] >= 0.9, result


def test_identifiers_split_on_snake_and_camel_case():
    assert split_words("MboPressureAnalyzer") == ["mbo", "pressure", "analyzer"]
    assert split_words("test_load_profile_v2") == ["test", "load", "profile", "v", "2"]
    assert split_words("parseHTTPResponse") == ["parse", "http", "response"]
    assert tokens("test_check_loads_data") == ("load",)  # generic words dropped, stemmed


def test_synonyms_rewrite_spellings_and_show_in_why(tmp_path):
    records = workspace(tmp_path, {"tests/book/test_flow.py": '''
        def test_order_book_imbalance_over_window():
            """Aggressive buys against sells."""
    '''})
    out = S.suggest_links(REQS, records, tmp_path)
    best = out[0]
    assert best.requirement_id == "PRE-ALGO-08" and best.rank == 1
    assert "mbo~order book" in best.why


def test_drawdown_and_kill_switch_spellings(tmp_path):
    records = workspace(tmp_path, {"tests/test_risk.py": '''
        def test_max_dd_of_equity_curve():
            pass

        def test_panic_button_cancels_everything():
            pass
    '''})
    best = {s.test_id.rsplit("::", 1)[-1]: s for s in S.suggest_links(REQS, records, tmp_path) if s.rank == 1}
    assert best["test_max_dd_of_equity_curve"].requirement_id == "BIZ-04"
    assert best["test_panic_button_cancels_everything"].requirement_id == "RISK-04"
    assert all(s.why for s in best.values())


def test_confirmed_tests_are_skipped(tmp_path):
    records = workspace(tmp_path, {"tests/test_flow.py": '''
        def test_mbo_pressure():
            pass

        def test_cache_hit_ratio():
            pass
    '''})
    confirmed = {"PRE-ALGO-08": [r for r in records if r.name == "test_mbo_pressure"]}
    out = S.suggest_links(REQS, records, tmp_path, confirmed=confirmed)
    assert out and {s.test_id for s in out} == {"tests/test_flow.py::test_cache_hit_ratio"}


def test_result_json_files_get_suggestions_and_containers_none(tmp_path):
    (tmp_path / "test-results").mkdir()
    (tmp_path / "test-results" / "cache_run_20250101_101010.json").write_text(json.dumps(
        {"test": "cache_run", "status": "passed", "description": "Replays requests twice",
         "metrics": {"cache_hits": 4, "hit_ratio": 0.9}}))
    records = discover(load_target(tmp_path)).records
    container = Record(id="test-results/junit.xml", path="test-results/junit.xml", kind="junit", name="junit.xml")
    out = S.suggest_links(REQS, records + [container], tmp_path)
    assert out[0].requirement_id == "PRE-FEED-05" and out[0].test_id.endswith(".json")
    assert all(s.test_id != container.id for s in out)


def test_bands_follow_score_and_margin():
    assert S.band_for(S.HIGH_SCORE, S.HIGH_MARGIN) == "high"
    assert S.band_for(S.HIGH_SCORE, 1.0) == "medium"  # strong but contested
    assert S.band_for(S.MEDIUM_SCORE, S.MEDIUM_MARGIN) == "medium"
    assert S.band_for(S.MEDIUM_SCORE, 1.0) == "low"
    assert S.band_for(S.MEDIUM_SCORE - 0.01, 10) == "low"
    assert set(S.COUNTED_BANDS) <= set(S.BANDS)


def test_order_is_deterministic_and_top_k_respected(tmp_path):
    records = workspace(tmp_path, {"tests/test_b.py": "def test_cache_ratio():\n    pass\n",
                                   "tests/test_a.py": "def test_drawdown_and_pressure():\n    pass\n"})
    first = S.suggest_links(REQS, records, tmp_path, top_k=2)
    second = S.suggest_links(REQS, list(reversed(records)), tmp_path, top_k=2)
    assert first == second
    assert [(s.test_id, s.rank) for s in first] == sorted((s.test_id, s.rank) for s in first)
    assert max(s.rank for s in first) <= 2
    assert all(s.why for s in first)


def test_plan_requirements_on_reference_fixture_give_why_terms():
    bench = _bench()
    plan = load()
    out = S.suggest_links(plan.requirements, bench.unmarked_fixture_records(), bench.FIXTURE)
    assert out and all(s.why and s.band in S.BANDS for s in out)
    assert all(s.as_dict()["requirement_id"] == s.requirement_id for s in out)


# -- rules that keep suggestions honest on real repositories (docs/real-repositories.md) ------


def test_background_words_of_a_large_repository_are_damped():
    """A token in every test of a 1,000-test repository weighs nothing, one in 10 % weighs
    less, one in few tests is untouched; a small suite is never damped."""
    common, some, rare = {"order": 1.0}, {"cache": 1.0}, {"drawdown": 1.0}
    queries = [(dict(common, **(some if i % 10 == 0 else {}), **(rare if i == 0 else {})), {}, {})
               for i in range(1000)]
    damping = S.background_damping(queries)
    assert damping["order"] == 0.0
    assert 0.7 < damping["cache"] < 0.8
    assert "drawdown" not in damping  # 1.0
    assert S.background_damping([({"order": 1.0}, {}, {})] * 20) == {}  # 20 tests: the share is over 500


def test_a_match_resting_on_one_word_is_never_counted(tmp_path):
    """``streaming`` alone (a backtest data iterator) is not MBO streaming connectivity."""
    reqs = REQS + [req("PRE-FEED-03", "MBO streaming connectivity during market hours",
                       "During market hours the stream delivers records continuously.")]
    records = workspace(tmp_path, {"tests/test_iter.py": "def test_streaming_streaming_streaming():\n    pass\n"})
    best = [s for s in S.suggest_links(reqs, records, tmp_path) if s.rank == 1]
    assert best and best[0].requirement_id == "PRE-FEED-03" and best[0].band == "low"
    column = np.array([5.0, 0.2, 4.0])
    weights, where = {"a": 1, "b": 1, "c": 1}, {"a": {"name"}, "b": {"name"}, "c": {"folder"}}
    assert S.supporting_terms(column, 9.2, weights, where) == 1  # c is only in the path, b too small
    where["c"] = {"folder", "docstring"}
    assert S.supporting_terms(column, 9.2, weights, where) == 2


def test_numbers_count_only_from_the_test_name():
    plan_reqs = [req("PRE-ALGO-03", "Threshold enforcement (min_ev=15, min_probability=0.60)"),
                 req("PRE-ALGO-09", "20-day historical baseline (> 75 % accuracy)")]
    ranker = S.Ranker(plan_reqs, S.Analyzer(S.load_synonyms()))
    weights, _, _ = ranker.query({"name": "test_borrowed", "docstring": "stake 60.0 fee 15"})
    assert "15" not in weights and "60" not in weights
    weights, _, _ = ranker.query({"name": "test_75_percent_accuracy"})
    assert "75" in weights


def test_phrases_keep_their_words_apart(tmp_path):
    """``edge`` (a module name), ``abs`` and account ``balances`` do not match edge-case
    handling, A/B testing or load balancing; the phrases still do."""
    reqs = [req("PRE-ALGO-06", "Edge case handling", "Degenerate inputs are handled.", ("edge-cases",)),
            req("OPS-04", "A/B testing framework", "Variants run side by side.", ("ab-testing",)),
            req("PRE-CONF-04", "Source enablement", "Load is balanced across the enabled sources.")]
    analyzer = S.Analyzer(S.load_synonyms())
    ranker = S.Ranker(reqs, analyzer)
    for name in ("test_edge_process", "test_abs_value", "test_account_balances"):
        weights, _, _ = ranker.query({"name": name})
        assert not ranker.scores(weights).any(), (name, weights)
    for name, rid in (("test_edge_cases_of_parser", "PRE-ALGO-06"), ("test_ab_testing_split", "OPS-04"),
                      ("test_load_balancing_of_sources", "PRE-CONF-04")):
        weights, _, _ = ranker.query({"name": name})
        assert reqs[int(ranker.scores(weights).argmax())].id == rid
