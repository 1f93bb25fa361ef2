"""A/B comparison of two strategy versions (plan lines 119-123; algorithm enhancement, 180-184).

Emitted signals with outcomes are split by ``strategy_version`` (``versions`` [A, B] from
params, else the two most frequent). Reports the P&L difference (mean B - mean A) with Welch's
t-test p-value, the accuracy difference with a pooled two-proportion z-test p-value, and the
smaller sample size. The comparison is judged, not only computed: ``ab_significant`` is 1 when
the p-value of the test named by ``test`` (``pnl``, Welch; or ``accuracy``, two-proportion z;
default ``pnl``) is below ``alpha`` (default 0.05) and the variant is the better one.

The plan promises the comparison *before a variant is promoted*, so that is what is judged:
the variant (the version whose first signal is later) counts as promoted when the newest
``promotion_run`` (default 10) resolved signals of the two versions are all its own, and
``ab_promoted_without_significance`` is 1 when it was promoted without a significant
improvement. Two versions still running side by side are an A/B test in progress: a difference
that could be chance (p = 0.31) is reported as such, not as a failure.
"""
from __future__ import annotations

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import make_spec, no_data
from golive.plugins.records.common import ratio, resolved_signals
from golive.plugins.records.stats import mean, two_proportion_z, welch_t


def check(requirement, ctx) -> CheckResult:
    joined, _ = resolved_signals(ctx, ctx.params.get("strategy"), ctx.params.get("mode"), extra=("strategy_version",))
    joined = joined[joined["strategy_version"].notna()]
    versions = ctx.params.get("versions") or joined["strategy_version"].value_counts().index[:2].tolist()
    if len(versions) < 2:
        return no_data("fewer than two strategy versions among resolved signals")
    groups = {v: joined[joined["strategy_version"] == v] for v in versions}
    if any(g.empty for g in groups.values()):
        return no_data(f"no resolved signals for version(s) {[v for v, g in groups.items() if g.empty]}")
    a, b = versions
    pnl = {v: [float(p) for p in g["pnl"] if p is not None and p == p] for v, g in groups.items()}
    right = {v: int(g["correct"].map(bool).sum()) for v, g in groups.items()}
    n = {v: len(g) for v, g in groups.items()}
    t, df, p_pnl = welch_t(pnl[b], pnl[a])
    z, p_acc = two_proportion_z(right[b], n[b], right[a], n[a])
    alpha = float(ctx.params.get("alpha", 0.05))
    test = ctx.params.get("test", "pnl")
    p_judged = p_pnl if test == "pnl" else p_acc
    first = {v: groups[v]["ts"].min() for v in versions}
    variant = max(versions, key=lambda v: (first[v], versions.index(v)))
    control = a if variant == b else b
    better = (mean(pnl[variant]) > mean(pnl[control]) if test == "pnl" and pnl[variant] and pnl[control]
              else right[variant] / n[variant] > right[control] / n[control])
    # NaN (no variance) is not significant; a significantly worse variant is no ground to promote it
    significant = int(p_judged == p_judged and p_judged < alpha and better)
    run = int(ctx.params.get("promotion_run", 10))
    newest = joined[joined["strategy_version"].isin(versions)].sort_values("ts")["strategy_version"].tail(run)
    promoted = len(newest) >= run and set(newest) == {variant}
    result = CheckResult(
        metrics={"ab_pnl_p_value": p_pnl, "ab_accuracy_p_value": p_acc, "ab_samples_min": min(n.values()),
                 "ab_significant": significant, "ab_promoted": int(promoted),
                 "ab_promoted_without_significance": int(promoted and not significant),
                 "ab_mean_pnl_diff": Quantity(round(mean(pnl[b]) - mean(pnl[a]), 2), "USD")
                 if pnl[a] and pnl[b] else float("nan"),
                 "ab_accuracy_diff": ratio(right[b] / n[b] - right[a] / n[a])},
        message=f"{b} vs {a}: accuracy {right[b] / n[b]:.1%} vs {right[a] / n[a]:.1%} (p={p_acc:.3g}), "
                f"mean P&L p={p_pnl:.3g}; {test} difference {'significant' if significant else 'not significant'} "
                f"at alpha {alpha:g}; {variant} "
                + (f"promoted (the newest {run} signals are all {variant})" if promoted
                   else f"still runs beside {control} (not promoted)"),
        details={"formula": "Welch t = (mean_B - mean_A)/sqrt(s_A²/n_A + s_B²/n_B), Welch-Satterthwaite df, "
                            "two-sided p; z = (p_B - p_A)/sqrt(p(1-p)(1/n_A + 1/n_B)), pooled p, two-sided",
                 "versions": {"A": a, "B": b}, "n": n, "accuracy": {v: right[v] / n[v] for v in versions},
                 "welch": {"t": t, "df": df}, "z": z,
                 "judged": {"test": test, "p_value": p_judged, "alpha": alpha, "significant": bool(significant),
                            "variant": variant, "control": control, "promoted": promoted}})
    return observe(result, "resolved signals of the compared versions",
                   [ts for g in groups.values() for ts in g["ts"]])


SPEC = make_spec("business", "ab_test", check, "two strategy versions compared with significance tests",
                 ("ab_pnl_p_value", "ab_accuracy_p_value", "ab_samples_min", "ab_significant", "ab_promoted",
                  "ab_promoted_without_significance", "ab_mean_pnl_diff", "ab_accuracy_diff"),
                 {"versions": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
                  "strategy": {"type": "string"}, "mode": {"type": "string"},
                  "alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.5,
                            "description": "significance level of the judged test (default 0.05)"},
                  "test": {"enum": ["pnl", "accuracy"], "description": "which difference is judged (default pnl)"},
                  "promotion_run": {"type": "integer", "minimum": 2,
                                    "description": "newest signals all of the variant that count as its promotion (default 10)"}})
