"""Which figures each non-MBO schema produces, which checks run on it, and which figures are
shown for information only (``not_judged``, with the reason). Used by :mod:`.schema_quality`;
``DEFECT_METRICS`` are the counts that mean something is wrong with the data.
"""
from __future__ import annotations

from . import schema_rules as rules
from .dbn_quality import SEQUENCE_METRICS, judge_sequences

NS_PER_DAY = 86_400 * 10**9
QUOTE_LEVELS = {"mbp-1": 1, "tbbo": 1, "mbp-10": 10, "cmbp-1": 1, "bbo-1s": 1, "bbo-1m": 1,
                "cbbo-1s": 1, "cbbo-1m": 1, "tcbbo": 1}
TRADE_LIKE = ("trades", "tbbo", "mbp-1", "mbp-10", "cmbp-1", "tcbbo")
CONSOLIDATED = ("cmbp-1", "cbbo-1s", "cbbo-1m", "tcbbo")
NO_EVENT_ORDER = ("definition", "statistics")
DEFECT_METRICS = (
    "ts_recv_regressions", "ts_event_regressions", "ts_event_after_recv", "duplicates_exact",
    "undefined_prices", "non_positive_prices", "zero_sizes", "price_jumps", "unknown_actions",
    "quote_crossed", "quote_locked", "levels_out_of_order", "levels_inconsistent",
    "ohlc_inconsistent", "bars_misaligned", "bars_out_of_order", "bars_duplicated",
    "definition_incomplete", "definitions_conflicting", "statistics_invalid", "status_unknown",
    "status_inconsistent", "imbalance_invalid", "skipped_records_errors", "gateway_errors")
OTHER_METRICS = ("records", "snapshot_records", "side_none_fills", "bad_ts_recv_flags",
                 "maybe_bad_book_flags", "auction_quote_crossed", "auction_quote_locked",
                 *SEQUENCE_METRICS, "sequence_steps", "sequence_jumps", "heartbeats",
                 "slow_reader_warnings", "other_records", *DEFECT_METRICS)


def produced_metrics(s: str, names: set[str]) -> set[str]:
    """The metrics that mean something for schema ``s`` with record fields ``names``."""
    out = {"records", "duplicates_exact", "heartbeats", "slow_reader_warnings",
           "other_records", "skipped_records_errors", "gateway_errors"}
    if "ts_recv" in names:
        out |= {"ts_recv_regressions", "ts_event_after_recv"}
    if "flags" in names:
        out |= {"snapshot_records", "bad_ts_recv_flags", "maybe_bad_book_flags"}
    if "ts_recv" in names and s not in NO_EVENT_ORDER:
        out.add("ts_event_regressions")
    if "sequence" in names:
        out |= {*SEQUENCE_METRICS, "sequence_steps", "sequence_jumps"}
    if s in TRADE_LIKE:
        out |= {"undefined_prices", "non_positive_prices", "zero_sizes", "price_jumps",
                "unknown_actions", "side_none_fills"}
    if s in QUOTE_LEVELS:
        out |= {"quote_crossed", "quote_locked", "auction_quote_crossed",
                "auction_quote_locked", "levels_inconsistent", "non_positive_prices"}
        if QUOTE_LEVELS[s] > 1:
            out.add("levels_out_of_order")
    if s in rules.BAR_INTERVAL_NS:
        out.add("bars_misaligned")
    if s.startswith("ohlcv"):
        out |= {"ohlc_inconsistent", "undefined_prices", "non_positive_prices", "zero_sizes",
                "bars_out_of_order", "bars_duplicated"}
    extra = {"definition": ("definition_incomplete", "definitions_conflicting"),
             "statistics": ("statistics_invalid",),
             "status": ("status_unknown", "status_inconsistent"),
             "imbalance": ("undefined_prices", "non_positive_prices", "imbalance_invalid")}
    return out | set(extra.get(s, ()))


def checks_applied(s: str, names: set[str], time_field: str) -> list[str]:
    """Names of the checks run on a file of schema ``s``."""
    produced = produced_metrics(s, names)
    named = {"ts_event_regressions": "ts_event_order_per_instrument",
             "ts_event_after_recv": "ts_event_after_recv", "sequence_gaps": "sequence_info",
             "undefined_prices": "prices", "zero_sizes": "sizes", "price_jumps": "price_jumps",
             "quote_crossed": "top_of_book", "levels_out_of_order": "level_order",
             "levels_inconsistent": "level_sizes", "bars_misaligned": "bar_alignment",
             "ohlc_inconsistent": "ohlc", "bars_out_of_order": "bar_order_per_instrument",
             "definition_incomplete": "definition_completeness",
             "definitions_conflicting": "definition_conflicts",
             "statistics_invalid": "statistics_fields", "status_unknown": "status_values",
             "status_inconsistent": "status_is_trading", "imbalance_invalid": "imbalance_fields"}
    first = ["decode", "file_order" if time_field == "ts_recv" else "bar_order", "duplicates_exact"]
    return first + [c for m, c in named.items() if m in produced]


def judgements(out: dict, s: str, meta) -> None:
    """Figures reported for information only, with the reason in ``not_judged``."""
    m = out["metrics"]
    if "sequence_gaps" in m:
        judge_sequences(out, meta)  # symbol-filtered data: its own reason comes first
        why = (f"sequence continuity cannot be judged from {s} data: its records are a subset of "
               "the channel's messages (the venue numbers every message of the channel), so the "
               "numbers skip by design; the counts are for information")
        for k in SEQUENCE_METRICS:
            out["not_judged"].setdefault(k, why)
    if s == "ohlcv-eod":
        out["not_judged"]["bars_misaligned"] = ("ohlcv-eod bars are stamped at each venue's "
                                                "session close, not on a fixed interval")
    if s in CONSOLIDATED:
        out["not_judged"]["quote_locked"] = ("a consolidated quote takes its bid and ask from "
                                             "different venues, which may lock legitimately")
    if not m.get("records"):
        out["not_judged"]["records"] = "the file holds no records: nothing was checked"
