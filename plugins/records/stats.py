"""The statistics the checkers report, written out so each can be tested against a hand value.

No SciPy: the Wilson interval, Sharpe, drawdown, win/loss, Pearson correlation, Welch's t-test
(Student t CDF through the regularised incomplete beta function) and the two-proportion z-test
are short enough to own, and owning them keeps their formulas next to the code the report cites.
"""
from __future__ import annotations

import math
from typing import Sequence

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
TRADING_DAYS = 252


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95 % by default)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


WILSON_FORMULA = ("wilson = (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), z = 1.96 (95 %)")


def _square(x: float) -> float:
    """x * x: ``x ** 2`` raises OverflowError for |x| > ~1e154, the product becomes inf (the
    statistic is then inf or NaN, never a crash on extreme records)."""
    return x * x


def mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def stdev(xs: Sequence[float], ddof: int = 1) -> float:
    if len(xs) <= ddof:
        return float("nan")
    m = mean(xs)
    return math.sqrt(sum(_square(x - m) for x in xs) / (len(xs) - ddof))


def sharpe(daily_returns: Sequence[float], periods: int = TRADING_DAYS, risk_free_daily: float = 0.0) -> float:
    """mean(r - rf) / std(r, ddof=1) * sqrt(periods)."""
    excess = [r - risk_free_daily for r in daily_returns]
    sd = stdev(excess)
    if not sd or sd != sd:
        return float("nan")
    return mean(excess) / sd * math.sqrt(periods)


def sortino(daily_returns: Sequence[float], periods: int = TRADING_DAYS) -> float:
    """mean(r) / sqrt(mean(min(r, 0)²)) * sqrt(periods)  (downside deviation, target 0)."""
    if not daily_returns:
        return float("nan")
    downside = math.sqrt(sum(_square(min(r, 0.0)) for r in daily_returns) / len(daily_returns))
    return float("nan") if downside == 0 else mean(daily_returns) / downside * math.sqrt(periods)


def max_drawdown(equity: Sequence[float]) -> tuple[float, float, int, int]:
    """Largest peak-to-trough fall of an equity curve.

    Returns (drawdown in money, drawdown as a fraction of the peak, peak index, trough index).
    """
    peak_i, best = 0, (0.0, 0.0, 0, 0)
    for i, v in enumerate(equity):
        if v > equity[peak_i]:
            peak_i = i
        dd = equity[peak_i] - v
        if dd > best[0]:
            frac = dd / equity[peak_i] if equity[peak_i] > 0 else float("nan")
            best = (dd, frac, peak_i, i)
    return best


def win_loss_ratio(pnls: Sequence[float]) -> tuple[float, float, float]:
    """(average win / average |loss|, average win, average |loss|); zero P&L trades ignored."""
    wins = [p for p in pnls if p > 0]
    losses = [-p for p in pnls if p < 0]
    avg_w, avg_l = mean(wins), mean(losses)
    if not wins or not losses:
        return (float("nan"), avg_w, avg_l)
    return (avg_w / avg_l, avg_w, avg_l)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    n = len(xs)
    if n < 3 or n != len(ys):
        return float("nan")
    mx, my = mean(xs), mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum(_square(x - mx) for x in xs)
    syy = sum(_square(y - my) for y in ys)
    return float("nan") if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def percentile(xs: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method), q in 0..100."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    pos = (len(s) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _betacf(a: float, b: float, x: float) -> float:
    # Lentz's continued fraction for the incomplete beta function (Numerical Recipes 6.4).
    tiny, qab, qap, qam = 1e-300, a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-14:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    ln = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    front = math.exp(ln)
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """Two-sided p-value of Student's t with ``df`` degrees of freedom."""
    if df <= 0 or t != t:
        return float("nan")
    return betainc(df / 2, 0.5, df / (df + t * t))


def welch_t(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Welch's unequal-variance t-test of mean(a) vs mean(b): (t, df, two-sided p)."""
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return (float("nan"), float("nan"), float("nan"))
    va, vb = _square(stdev(a)) / na, _square(stdev(b)) / nb
    if va + vb == 0:
        return (float("nan"), float("nan"), float("nan"))
    t = (mean(a) - mean(b)) / math.sqrt(va + vb)
    df = _square(va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1))
    return (t, df, t_two_sided_p(t, df))


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z-test: (z, two-sided p)."""
    if n1 == 0 or n2 == 0:
        return (float("nan"), float("nan"))
    p = (x1 + x2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return (float("nan"), float("nan"))
    z = (x1 / n1 - x2 / n2) / se
    return (z, 2 * normal_sf(abs(z)))
