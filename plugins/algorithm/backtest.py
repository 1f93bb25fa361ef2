"""Backtest history and weight configuration (plan lines 37 and 35-58, "6 months").

Reads the backtest description (``records/backtest.json``: start, end, strategy_version,
weights) and its signals (``records/backtest_signals``), and the weights the trading system is
configured with (``config/algorithm_weights.json`` or ``.yaml``: ``{weights: {name: value}}``).
Reports the span of history the backtest's signals actually cover (``history_span`` in days,
converted by the engine to the plan's months), the declared span, and how far the configured
weights are from the backtest's (largest absolute difference; names present on one side only).
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml

from golive.model import CheckResult, Quantity, Status
from golive.plugins.records import reader
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import make_spec, no_data


def _document(ctx, param: str, default: str) -> tuple[dict, str] | CheckResult:
    path = Path(ctx.params.get(param, default))
    full = path if path.is_absolute() else ctx.target.root / path
    if not full.exists():
        return CheckResult(status=Status.MISSING, message=f"{path} not found")
    ctx.record_artifact(full)
    try:
        data = json.loads(full.read_text()) if full.suffix == ".json" else yaml.safe_load(full.read_text())
    except (ValueError, yaml.YAMLError) as exc:
        raise reader.RecordsError(str(path), f"cannot be parsed: {exc}") from exc
    if not isinstance(data, dict):
        raise reader.RecordsError(str(path), "must hold a mapping")
    return data, str(path)


def _weights(data: dict, where: str) -> dict[str, float]:
    weights = data.get("weights")
    if not isinstance(weights, dict) or not weights:
        raise reader.RecordsError(where, "needs a non-empty 'weights' mapping of name -> number", column="weights")
    for k, v in weights.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise reader.RecordsError(where, f"weight {k!r} is {v!r}, not a number", column="weights")
    return {str(k): float(v) for k, v in weights.items()}


def check(requirement, ctx) -> CheckResult:
    meta = _document(ctx, "backtest", "records/backtest.json")
    if isinstance(meta, CheckResult):
        return meta
    meta, meta_path = meta
    sig = reader.load(ctx, "backtest_signals", need=["ts", "signal_id"])
    if sig.empty:
        return no_data("records/backtest_signals holds no signals")
    span_days = (sig["ts"].iloc[-1] - sig["ts"].iloc[0]).total_seconds() / 86400
    try:
        declared = (date.fromisoformat(str(meta["end"])) - date.fromisoformat(str(meta["start"]))).days
    except (KeyError, ValueError) as exc:
        raise reader.RecordsError(meta_path, f"needs 'start' and 'end' dates (YYYY-MM-DD): {exc}",
                                  column="start/end") from exc
    metrics = {"history_span": Quantity(round(span_days, 3), "d"), "declared_span": Quantity(declared, "d"),
               "backtest_signals": len(sig)}
    details = {"formula": "history_span = last - first backtest signal timestamp; weights_max_diff = "
                          "max |configured - backtest| over weight names",
               "first_signal": str(sig["ts"].iloc[0]), "last_signal": str(sig["ts"].iloc[-1])}
    backtest_w = _weights(meta, meta_path)
    config = _document(ctx, "weights", "config/algorithm_weights.json")
    if isinstance(config, CheckResult):
        return config
    configured = _weights(*config)
    names = sorted(set(backtest_w) | set(configured))
    diffs = {n: abs(backtest_w[n] - configured[n]) for n in names if n in backtest_w and n in configured}
    one_sided = [n for n in names if (n in backtest_w) != (n in configured)]
    metrics["weights_max_diff"] = max(diffs.values(), default=0.0)
    metrics["weights_missing"] = len(one_sided)
    details.update(backtest_weights=backtest_w, configured_weights=configured,
                   differing={n: d for n, d in diffs.items() if d > 0}, only_on_one_side=one_sided)
    return observe(CheckResult(metrics=metrics, details=details,
                               message=f"backtest covers {span_days:.0f} days with {len(sig)} signals; "
                                       f"largest weight difference {metrics['weights_max_diff']:.4g}"),
            "backtest signals", sig["ts"])


SPEC = make_spec("algorithm", "backtest", check,
                 "backtest history span and configured weights equal to the backtest's",
                 ("history_span", "declared_span", "backtest_signals", "weights_max_diff", "weights_missing"),
                 {"backtest": {"type": "string"}, "weights": {"type": "string"}})
