"""Algorithm enhancement testing: every version was backtested and shadowed first (plan lines 180-184).

Every strategy version that produced live or limited-live signals (``records/signals``,
``strategy_version``) must appear in the backtest's signals (``records/backtest_signals``) and
must have run in shadow mode before its first live signal. Lists the versions that skipped a
step; a version's first shadow and first live day are reported for each.
"""
from __future__ import annotations

from golive.model import CheckResult
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import make_spec, no_data


def check(requirement, ctx) -> CheckResult:
    live_modes = set(ctx.params.get("live_modes", ["limited", "live"]))
    sig = reader.load(ctx, "signals", need=["ts", "signal_id", "mode", "strategy_version"])
    back = reader.load(ctx, "backtest_signals", need=["ts", "signal_id", "strategy_version"])
    live = sig[sig["mode"].isin(live_modes)]
    if live.empty:
        return no_data(f"no {'/'.join(sorted(live_modes))} signals in records/signals")
    backtested = set(back["strategy_version"])
    versions, no_backtest, no_shadow = {}, [], []
    for version, g in live.groupby("strategy_version"):
        first_live = g["ts"].min()
        shadow = sig[(sig["mode"] == "shadow") & (sig["strategy_version"] == version) & (sig["ts"] < first_live)]
        versions[version] = {"first_live": str(first_live),
                             "first_shadow": str(shadow["ts"].min()) if not shadow.empty else None,
                             "backtested": version in backtested}
        if version not in backtested:
            no_backtest.append(version)
        if shadow.empty:
            no_shadow.append(version)
    return observe(CheckResult(
        metrics={"versions_live": len(versions), "versions_without_backtest": len(no_backtest),
                 "versions_without_shadow": len(no_shadow)},
        message=f"{len(versions)} versions traded; {len(no_backtest)} never backtested, "
                f"{len(no_shadow)} never shadowed before going live",
        details={"rule": "each strategy_version with live signals has backtest signals and shadow signals before "
                         "its first live signal", "versions": versions, "without_backtest": no_backtest,
                 "without_shadow": no_shadow}),
        "live signals", live["ts"])


SPEC = make_spec("business", "release_testing", check, "each live strategy version was backtested and shadowed first",
                 ("versions_live", "versions_without_backtest", "versions_without_shadow"),
                 {"live_modes": {"type": "array", "items": {"type": "string"}, "minItems": 1}})
