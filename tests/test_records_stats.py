"""Each statistic against a value computed by hand (the arithmetic is in the comments)."""
from __future__ import annotations

import math

import pytest

from golive.plugins.records import stats


def test_wilson_interval_8_of_10():
    # p = 0.8, z = 1.959964: denom = 1 + z²/10 = 1.384146; centre = (0.8 + z²/20) / denom = 0.716742
    # half = z * sqrt(0.8*0.2/10 + z²/400) / denom = 0.226581  ->  [0.490161, 0.943323]
    low, high = stats.wilson(8, 10)
    assert low == pytest.approx(0.490161, abs=1e-5)
    assert high == pytest.approx(0.943323, abs=1e-5)


def test_wilson_edges():
    low, high = stats.wilson(0, 5)
    assert low == 0.0 and high == pytest.approx(0.434482, abs=1e-5)  # z²/(n+z²) = 3.841459/8.841459
    assert all(math.isnan(v) for v in stats.wilson(0, 0))


def test_wilson_twelve_signals_is_weak_evidence():
    # 10 of 12 right is 83 % but the lower bound is far below 75 %
    low, _ = stats.wilson(10, 12)
    assert low == pytest.approx(0.551960, abs=1e-4)


def test_sharpe_hand_value():
    # r = [0.01, -0.005, 0.02, 0.0]; mean 0.00625; deviations² sum 3.6875e-4; var (ddof 1) 1.2291667e-4
    # sd 0.0110868; mean/sd 0.563735; * sqrt(252) = 8.94903
    assert stats.sharpe([0.01, -0.005, 0.02, 0.0]) == pytest.approx(8.94903, rel=1e-5)


def test_sharpe_undefined_without_variation():
    assert math.isnan(stats.sharpe([0.01, 0.01, 0.01]))
    assert math.isnan(stats.sharpe([0.01]))


def test_sortino_hand_value():
    # r = [0.02, -0.01, 0.01, -0.02]: mean 0; -> 0.  r = [0.03, -0.01]: mean 0.01,
    # downside sqrt((0 + 0.0001)/2) = 0.0070711; 0.01/0.0070711*sqrt(252) = 22.4499
    assert stats.sortino([0.03, -0.01]) == pytest.approx(22.4499, rel=1e-4)


def test_max_drawdown_hand_value():
    # 100 -> 120 (peak) -> 90: fall 30 = 25 % of the peak; later 130 -> 110 is only 20
    assert stats.max_drawdown([100, 120, 90, 130, 110]) == (30, 0.25, 1, 2)
    assert stats.max_drawdown([100, 110, 120])[0] == 0.0


def test_win_loss_ratio_hand_value():
    # wins 100, 200 -> 150; losses 50, 25 -> 37.5; zero ignored; 150/37.5 = 4
    assert stats.win_loss_ratio([100, -50, 200, -25, 0]) == (4.0, 150.0, 37.5)
    assert math.isnan(stats.win_loss_ratio([10, 20])[0])


def test_pearson():
    assert stats.pearson([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(1.0)
    assert stats.pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # x = [1,2,3,4], y = [1,3,2,4]: sxy = 4, sxx = syy = 5 -> 0.8
    assert stats.pearson([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)


def test_percentile_linear():
    assert stats.percentile([1, 2, 3, 4], 50) == 2.5
    assert stats.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)  # pos 2.85 between 3 and 4


def test_student_t_p_values_closed_forms():
    # df = 1 is Cauchy: P(|T| > 1) = 0.5; df = 2: P(|T| > t) = 1 - t/sqrt(2 + t²) -> t = 2: 0.183503
    assert stats.t_two_sided_p(1.0, 1) == pytest.approx(0.5, abs=1e-9)
    assert stats.t_two_sided_p(2.0, 2) == pytest.approx(1 - 2 / math.sqrt(6), abs=1e-9)
    assert stats.t_two_sided_p(0.0, 7) == pytest.approx(1.0)


def test_welch_hand_value():
    # a = 1..5 (mean 3, var 2.5), b = 2,4..10 (mean 6, var 10): se² = 0.5 + 2 = 2.5
    # t = -3/sqrt(2.5) = -1.897367; df = 2.5² / (0.5²/4 + 2²/4) = 6.25/1.0625 = 5.882353
    t, df, p = stats.welch_t([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    assert t == pytest.approx(-1.897367, rel=1e-6)
    assert df == pytest.approx(5.882353, rel=1e-6)
    assert p == pytest.approx(0.10753, abs=1e-4)  # scipy.stats.ttest_ind(a, b, equal_var=False)


def test_two_proportion_z_hand_value():
    # 60/100 vs 45/100: pooled 0.525; se = sqrt(0.525*0.475*0.02) = 0.0706222; z = 0.15/se = 2.12398
    z, p = stats.two_proportion_z(60, 100, 45, 100)
    assert z == pytest.approx(2.12398, rel=1e-5)
    assert p == pytest.approx(2 * stats.normal_sf(2.12398), rel=1e-4)
    assert p == pytest.approx(0.033672, abs=2e-5)


def test_normal_sf():
    assert stats.normal_sf(0) == 0.5
    assert stats.normal_sf(1.959963984540054) == pytest.approx(0.025, abs=1e-9)
