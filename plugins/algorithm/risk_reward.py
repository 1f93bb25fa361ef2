"""Risk-reward calculations (plan line 40): the team's dollar figures recomputed from prices.

What is independent here is the arithmetic, not the inputs: the entry, stop and target prices
and the probability are the signal's own (records/signals), the multiplier is the team's
instrument table (records/instruments); no market event enters. The statement of PRE-ALGO-05
promises exactly that.

Recomputes, for every signal with complete prices, dollar risk = |entry - stop| * multiplier,
dollar reward = |target - entry| * multiplier, risk_reward = reward / risk and
EV = p * reward - (1 - p) * risk, using ``records/instruments`` for the multiplier, and reports
the largest difference from the recorded values. The plan's tolerance is a threshold on those
maxima; rows beyond it are listed. Rows with missing prices or non-positive risk are edge cases
(counted here, judged by the edge-case check).
"""
from __future__ import annotations

from decimal import Decimal

from golive.model import CheckResult, Quantity
from golive.plugins.monitoring.observation import observe
from golive.plugins.records import reader
from golive.plugins.records.checkutil import listed, make_spec, no_data, plan_limit
from golive.plugins.records.common import instruments, spec_of

COLUMNS = ["signal_id", "symbol", "entry_price", "stop_price", "target_price", "risk", "reward",
           "risk_reward", "ev", "probability"]


def check(requirement, ctx) -> CheckResult:
    specs = instruments(ctx)
    sig = reader.load(ctx, "signals", need=COLUMNS, optional=["strategy", "ts"],
                      nullable=[c for c in COLUMNS if c not in ("signal_id", "symbol")])
    if ctx.params.get("strategy"):
        sig = sig[sig["strategy"] == ctx.params["strategy"]]
    errors = {"risk": [], "reward": [], "rr": [], "ev": []}
    rows, skipped = [], 0
    for pos, r in enumerate(sig.itertuples(index=False)):
        if None in (r.entry_price, r.stop_price, r.target_price, r.risk, r.reward) or r.risk <= 0:
            skipped += 1
            continue
        _, mult = spec_of(ctx, specs, "signals", sig, pos, r.symbol)
        risk = abs(r.entry_price - r.stop_price) * mult
        reward = abs(r.target_price - r.entry_price) * mult
        row = {"signal_id": r.signal_id, "risk": abs(risk - r.risk), "reward": abs(reward - r.reward)}
        row["rr"] = abs(float(reward / risk) - r.risk_reward) if r.risk_reward == r.risk_reward else float("nan")
        if r.ev is not None and r.probability == r.probability:
            p = Decimal(str(r.probability))
            row["ev"] = abs(p * reward - (1 - p) * risk - r.ev)
        else:
            row["ev"] = Decimal(0)
        rows.append(row)
        for k in errors:
            errors[k].append(float(row[k]))
    if not rows:
        return no_data("no signals with complete prices in records/signals")
    worst = {k: max((v for v in vals if v == v), default=float("nan")) for k, vals in errors.items()}
    limits = {"rr": plan_limit(requirement, "rr_max_error"), "risk": plan_limit(requirement, "risk_max_error"),
              "reward": plan_limit(requirement, "reward_max_error"), "ev": plan_limit(requirement, "ev_max_error")}
    beyond = [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()} for row in rows
              if any(limits[k] is not None and float(row[k]) > float(limits[k]) for k in errors)]
    result = CheckResult(
        metrics={"rr_max_error": worst["rr"], "risk_max_error": Quantity(worst["risk"], "USD"),
                 "reward_max_error": Quantity(worst["reward"], "USD"), "ev_max_error": Quantity(worst["ev"], "USD"),
                 "signals_checked": len(rows), "incomplete_rows": skipped},
        message=f"{len(rows)} signals recomputed; worst risk-reward error {worst['rr']:.6g}",
        details={"formula": "risk = |entry - stop| * multiplier; reward = |target - entry| * multiplier; "
                            "risk_reward = reward / risk; ev = p*reward - (1-p)*risk; error = |recomputed - recorded|",
                 "beyond_tolerance": listed(beyond), "inputs": "signal prices and probability (records/signals), "
                 "contract multiplier (records/instruments)"})
    checked = {row["signal_id"] for row in rows}
    return observe(result, "signals with complete prices",
                   sig.loc[sig["signal_id"].isin(checked), "ts"], events=len(rows))


SPEC = make_spec("algorithm", "risk_reward", check,
                 "recorded risk, reward, risk-reward and EV match golive's recomputation from the signal's prices, "
                 "probability and contract multiplier",
                 ("rr_max_error", "risk_max_error", "reward_max_error", "ev_max_error", "signals_checked",
                  "incomplete_rows"), {"strategy": {"type": "string"}})
