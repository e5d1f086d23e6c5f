"""Statistics checked against published values (R's documented examples) and the libraries directly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from lt_workbench.analysis import stats


def test_wilson_matches_statsmodels_and_a_published_value() -> None:
    lo, hi = stats.wilson_interval([0, 5, 81, 10], [10, 20, 263, 0])
    want_lo, want_hi = proportion_confint(np.array([0, 5, 81]), np.array([10, 20, 263]), method="wilson")
    np.testing.assert_allclose(lo[:3], want_lo)
    np.testing.assert_allclose(hi[:3], want_hi)
    assert np.isnan(lo[3]) and np.isnan(hi[3])
    # Newcombe (1998), Table I, example 81/263: Wilson 0.2553 to 0.3662
    assert lo[2] == pytest.approx(0.2553, abs=5e-5) and hi[2] == pytest.approx(0.3662, abs=5e-5)


def test_cochran_armitage_reproduces_r_prop_trend_test() -> None:
    # R: smokers <- c(83, 90, 129, 70); patients <- c(86, 93, 136, 82)
    # prop.trend.test(smokers, patients)  ->  X-squared = 8.2249, df = 1, p-value = 0.004132
    counts, totals = [83, 90, 129, 70], [86, 93, 136, 82]
    res = stats.trend_test(counts, totals, [1, 2, 3, 4])
    n = sum(totals)
    assert res.statistic * n / (n - 1) == pytest.approx(8.2249, abs=1e-4)
    assert res.direction == "falling" and res.n_years == 4 and res.n == n
    assert "Cochran-Armitage" in res.method
    # the p-value is the linear-by-linear one ((N-1)/N chi-square): close to R's, slightly larger
    assert res.p_value == pytest.approx(0.004179, abs=2e-6)


def test_trend_edge_cases_and_logistic() -> None:
    flat = stats.trend_test([0, 0, 0], [5, 5, 5], [2019, 2020, 2021])
    assert np.isnan(flat.p_value) and flat.direction == "flat"
    one = stats.trend_test([1], [5], [2020])
    assert one.n_years == 1 and np.isnan(one.p_value)
    rising = stats.trend_test([1, 3, 6, 10, 15], [20] * 5, [2015, 2016, 2017, 2018, 2019], method="logistic")
    assert rising.direction == "rising" and rising.p_value < 0.001 and "logistic" in rising.method
    import statsmodels.api as sm

    y = np.array([2015, 2016, 2017, 2018, 2019], dtype=float)
    fit = sm.GLM(np.column_stack([[1, 3, 6, 10, 15], [19, 17, 14, 10, 5]]), sm.add_constant(y - y.mean()), family=sm.families.Binomial()).fit()
    assert rising.slope == pytest.approx(fit.params[1]) and rising.p_value == pytest.approx(fit.pvalues[1])
    stepped = stats.trend_test([1, 3, 6, 10, 15], [20] * 5, y, method="logistic", step_at=2018)
    assert "step from 2018" in stepped.method
    with pytest.raises(ValueError, match="unknown trend method"):
        stats.trend_test([1, 2], [5, 5], [1, 2], method="spline")  # type: ignore[arg-type]


def test_fisher_reproduces_r_tea_tasting() -> None:
    # R: fisher.test(matrix(c(3, 1, 1, 3), 2)) -> p-value = 0.4857, odds ratio 6.408309,
    # 95 percent confidence interval 0.2117329 621.9337505
    res = stats.fisher_2x2(3, 1, 1, 3)
    assert res.p_value == pytest.approx(0.4857, abs=1e-4)
    assert res.odds_ratio == pytest.approx(6.408309, rel=1e-5)
    assert res.ci_low == pytest.approx(0.2117329, rel=1e-4)
    assert res.ci_high == pytest.approx(621.9337505, rel=1e-2)
    assert "conditional" in res.or_method


def test_fisher_sample_odds_ratio_is_statsmodels_woolf() -> None:
    from statsmodels.stats.contingency_tables import Table2x2

    res = stats.fisher_2x2(12, 5, 9, 30, or_kind="sample")
    t = Table2x2(np.array([[12, 5], [9, 30]]))
    assert res.odds_ratio == pytest.approx(12 * 30 / (5 * 9))
    assert (res.ci_low, res.ci_high) == pytest.approx(t.oddsratio_confint())
    assert res.p_value == pytest.approx(fisher_exact([[12, 5], [9, 30]]).pvalue)
    zero = stats.fisher_2x2(0, 5, 9, 30, or_kind="sample")
    assert zero.odds_ratio == pytest.approx((0.5 * 30.5) / (5.5 * 9.5))
    with pytest.raises(ValueError):
        stats.fisher_2x2(-1, 2, 3, 4)


def test_funnel_limits_are_binomial_quantiles() -> None:
    n = np.array([5, 20, 100, 0])
    lim = stats.funnel_limits(n, 0.3)
    np.testing.assert_allclose(lim.upper_95[:3], binom.ppf(0.975, n[:3], 0.3) / n[:3])
    np.testing.assert_allclose(lim.lower_998[:3], binom.ppf(0.001, n[:3], 0.3) / n[:3])
    assert np.isnan(lim.upper_95[3])
    assert (lim.lower_998[:3] <= lim.lower_95[:3]).all() and (lim.upper_95[:3] <= lim.upper_998[:3]).all()
    # limits narrow as the denominator grows
    assert lim.upper_95[2] - lim.lower_95[2] < lim.upper_95[1] - lim.lower_95[1]


def test_bh_matches_statsmodels_and_benjamini_hochberg_1995() -> None:
    # Benjamini & Hochberg (1995), section 4: 15 p-values; at q = 0.05 the first four are rejected.
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000]
    q, reject = stats.bh_adjust(p)
    assert reject.sum() == 4
    np.testing.assert_allclose(q, multipletests(p, method="fdr_bh")[1])
    q2, r2 = stats.bh_adjust([0.01, np.nan, 0.04])
    assert np.isnan(q2[1]) and not r2[1]
    np.testing.assert_allclose(q2[[0, 2]], multipletests([0.01, 0.04], method="fdr_bh")[1])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 60)] * 4), min_size=1, max_size=30), st.sampled_from(["sample", "conditional"]))
def test_fisher_many_is_fisher_2x2_table_by_table(tables: list[tuple[int, int, int, int]], kind: str) -> None:
    a, b, c, d = (np.array(col) for col in zip(*tables, strict=False))
    many = stats.fisher_many(a, b, c, d, kind)
    for i, t in enumerate(tables):
        one = stats.fisher_2x2(*t, or_kind=kind)
        assert many["p_value"][i] == pytest.approx(fisher_exact([[t[0], t[1]], [t[2], t[3]]]).pvalue, rel=1e-6, abs=1e-12)
        for key in ("odds_ratio", "ci_low", "ci_high"):
            assert many[key][i] == pytest.approx(getattr(one, key), rel=1e-6, nan_ok=True)


def test_fisher_many_on_large_tables_and_bad_input() -> None:
    # Margins like a 10,000-review co-occurrence: supports of thousands of values, long binary searches.
    rng = np.random.default_rng(3)
    rows = [(int(ab), int(na - ab), int(nb - ab), int(10_000 - na - nb + ab))
            for na, nb in rng.integers(200, 4000, size=(40, 2)) for ab in [int(rng.integers(0, min(na, nb)))]]
    a, b, c, d = (np.array(col) for col in zip(*rows, strict=False))
    many = stats.fisher_many(a, b, c, d)
    want = [fisher_exact([[w, x], [y, z]]).pvalue for w, x, y, z in rows]
    assert many["p_value"] == pytest.approx(want, rel=1e-6, abs=1e-300)
    with pytest.raises(ValueError, match="non-negative"):
        stats.fisher_many([1, -1], [2, 2], [3, 3], [4, 4])
    assert len(stats.fisher_many([], [], [], [])["p_value"]) == 0


@settings(max_examples=200, deadline=None)
@given(st.tuples(st.integers(0, 3000), st.integers(0, 3000), st.integers(0, 30), st.integers(0, 30000)))
def test_fisher_many_on_skewed_tables(t: tuple[int, int, int, int]) -> None:
    # Rare codes in large corpora: one small cell beside large ones, where tails are long and lopsided.
    for table in (t, (t[2], t[0], t[3], t[1])):
        got = stats.fisher_many(*[[v] for v in table])["p_value"][0]
        assert got == pytest.approx(fisher_exact([[table[0], table[1]], [table[2], table[3]]]).pvalue, rel=1e-6, abs=1e-300)
