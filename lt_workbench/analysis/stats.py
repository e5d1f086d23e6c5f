"""The statistics a researcher expects on cross-review counts, each delegated to scipy or statsmodels.

Nothing here is hand-rolled: intervals, tests and adjustments are library calls, wrapped so the
tabulation layer can apply them to whole columns and name the method in its output. The one
exception in form, `fisher_many`, runs scipy's own two-sided Fisher algorithm over scipy's
hypergeometric distribution for many tables at once, and is tested against `fisher_exact`. Functions
take plain counts, so they can be checked against published values independently of the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binom, fisher_exact, hypergeom, norm
from scipy.stats.contingency import odds_ratio as _scipy_odds_ratio
from statsmodels.stats.contingency_tables import Table, Table2x2
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

__all__ = [
    "WILSON_METHOD",
    "TREND_METHODS",
    "FUNNEL_METHOD",
    "BH_METHOD",
    "wilson_interval",
    "TrendResult",
    "trend_test",
    "OR_METHODS",
    "FisherResult",
    "fisher_2x2",
    "fisher_many",
    "FunnelLimits",
    "funnel_limits",
    "bh_adjust",
]

WILSON_METHOD = "Wilson score interval, 95% (statsmodels proportion_confint, method='wilson')"
TREND_METHODS = {
    "cochran-armitage": (
        "Cochran-Armitage test for trend in proportions across years (linear-by-linear association, "
        "statsmodels Table.test_ordinal_association, year as the row score)"
    ),
    "logistic": "logistic regression of presence on year (binomial GLM, statsmodels); Wald test of the year slope",
}
FUNNEL_METHOD = (
    "exact binomial limits around the overall proportion (scipy.stats.binom.ppf at 2.5%/97.5% and 0.1%/99.9%), "
    "not interpolated"
)
BH_METHOD = "Benjamini-Hochberg false discovery rate (statsmodels multipletests, method='fdr_bh')"


def wilson_interval(count: Sequence[float] | np.ndarray, n: Sequence[float] | np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for count/n, as proportions (0-1); NaN where n is 0.

    Wilson rather than Wald because counts of reviews are often small and proportions near 0 or 1.
    """
    c = np.asarray(count, dtype=float)
    m = np.asarray(n, dtype=float)
    low = np.full(c.shape, np.nan)
    high = np.full(c.shape, np.nan)
    ok = m > 0
    if ok.any():
        lo, hi = proportion_confint(c[ok], m[ok], alpha=alpha, method="wilson")
        low[ok] = lo
        high[ok] = hi
    return low, high


@dataclass(frozen=True)
class TrendResult:
    """One trend test: which method, its statistic and p-value, and the direction of the change."""

    method: str
    statistic: float
    p_value: float
    direction: Literal["rising", "falling", "flat"]
    slope: float            # z score (Cochran-Armitage) or log-odds per year (logistic)
    n_years: int
    n: int


def trend_test(
    counts: ArrayLike,
    totals: ArrayLike,
    years: ArrayLike,
    method: Literal["cochran-armitage", "logistic"] = "cochran-armitage",
    step_at: float | None = None,
) -> TrendResult:
    """Test for a trend in count/total across years.

    Cochran-Armitage (the default) is the linear-by-linear association test of a 2 x k table with
    the years as scores; its statistic is (N-1)/N times the classical chi-square of R's
    prop.trend.test. `logistic` fits a binomial GLM on year and, with `step_at`, a step for
    years >= step_at, so a series break (SCR to CSPR) is not mistaken for a trend.
    """
    c = np.asarray(counts, dtype=float)
    t = np.asarray(totals, dtype=float)
    y = np.asarray(years, dtype=float)
    keep = t > 0
    c, t, y = c[keep], t[keep], y[keep]
    n_years = int(len(y))
    if n_years < 2 or c.sum() == 0 or c.sum() == t.sum():
        return TrendResult(TREND_METHODS[method], float("nan"), float("nan"), "flat", float("nan"), n_years, int(t.sum()))
    if method == "cochran-armitage":
        res = Table(np.column_stack([c, t - c])).test_ordinal_association(row_scores=y, col_scores=np.array([1.0, 0.0]))
        z = float(res.zscore)
        return TrendResult(TREND_METHODS[method], float(res.zscore**2), float(res.pvalue), _direction(z, res.pvalue), z, n_years, int(t.sum()))
    if method == "logistic":
        import statsmodels.api as sm

        x = y - y.mean()
        columns = [np.ones_like(x), x]
        name = TREND_METHODS[method]
        if step_at is not None and (y >= step_at).any() and (y < step_at).any():
            columns.append((y >= step_at).astype(float))
            name += f", adjusted for a step from {int(step_at)}"
        model = sm.GLM(np.column_stack([c, t - c]), np.column_stack(columns), family=sm.families.Binomial())
        fit = model.fit()
        slope = float(fit.params[1])
        p = float(fit.pvalues[1])
        return TrendResult(name, float(fit.tvalues[1] ** 2), p, _direction(slope, p), slope, n_years, int(t.sum()))
    raise ValueError(f"unknown trend method {method!r}: use one of {', '.join(TREND_METHODS)}")


def _direction(signed: float, p: float, alpha: float = 0.05) -> Literal["rising", "falling", "flat"]:
    if not np.isfinite(p) or p >= alpha:
        return "flat"
    return "rising" if signed > 0 else "falling"


@dataclass(frozen=True)
class FisherResult:
    """A 2 x 2 comparison: odds ratio with its 95% interval and the Fisher exact two-sided p-value."""

    odds_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    or_method: str


OR_METHODS = {
    "conditional": "conditional maximum-likelihood odds ratio with exact 95% interval (scipy.stats.contingency.odds_ratio)",
    "sample": "sample odds ratio with Woolf (log) 95% interval, 0.5 added to every cell when one is zero (statsmodels Table2x2)",
}


def fisher_2x2(a: int, b: int, c: int, d: int, or_kind: Literal["conditional", "sample"] = "conditional") -> FisherResult:
    """Fisher exact test of [[a, b], [c, d]] (rows: group / rest; columns: with / without).

    `conditional` gives the same estimate and interval as R's fisher.test but costs milliseconds;
    `sample` is the quick Woolf interval used when hundreds of pairs are tested at once.
    """
    table = np.array([[a, b], [c, d]], dtype=np.int64)
    if (table < 0).any():
        raise ValueError(f"a 2 x 2 table needs non-negative counts, got {table.tolist()}")
    p = float(fisher_exact(table).pvalue)
    if or_kind == "conditional":
        return FisherResult(*_conditional_or(table), p, OR_METHODS[or_kind])
    if or_kind == "sample":
        if table.sum(axis=0).min() == 0 or table.sum(axis=1).min() == 0:
            return FisherResult(float("nan"), float("nan"), float("nan"), p, OR_METHODS[or_kind])
        # Haldane-Anscombe: 0.5 added to every cell when one is zero (statsmodels' shift_zeros shifts only the zero cells).
        t = Table2x2(table + 0.5 if (table == 0).any() else table.astype(float), shift_zeros=False)
        lo, hi = t.oddsratio_confint(0.05)
        return FisherResult(float(t.oddsratio), float(lo), float(hi), p, OR_METHODS[or_kind])
    raise ValueError(f"unknown odds ratio kind {or_kind!r}: use one of {', '.join(OR_METHODS)}")


def _conditional_or(table: np.ndarray) -> tuple[float, float, float]:
    """Conditional maximum-likelihood odds ratio of a 2 x 2 table and its exact 95% interval (scipy)."""
    res = _scipy_odds_ratio(table, kind="conditional")
    ci = res.confidence_interval(0.95)
    return float(res.statistic), float(ci.low), float(ci.high)


def _first_true(start: np.ndarray, stop: np.ndarray, pred: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Per row, the first x in [start, stop) where pred(x, rows) holds (pred false then true), else stop.

    A binary search for all rows at once: each step is one array call of `pred` on the rows still open.
    """
    lo, hi = start.copy(), stop.copy()
    while (open_ := np.flatnonzero(lo < hi)).size:
        mid = (lo[open_] + hi[open_]) // 2
        ok = pred(mid, open_)
        hi[open_] = np.where(ok, mid, hi[open_])
        lo[open_] = np.where(ok, lo[open_], mid + 1)
    return lo


def _fisher_p_many(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Two-sided Fisher p-values of many 2 x 2 tables at once.

    scipy.stats.fisher_exact's own algorithm, run on all tables together: the observed tail by scipy's
    hypergeometric cdf (or sf), plus the opposite tail from the first value, found by binary search
    on that side of the mode, no more likely than the observed table (relative tolerance 1e-7). One
    fisher_exact call per table costs about 0.3 ms, which made a matrix of a few hundred pairs slow;
    here each search step is one array call. Checked against fisher_exact in the tests.
    """
    total, col, row = a + b + c + d, a + c, a + b
    lo = np.maximum(0, row - (total - col))
    hi = np.minimum(row, col)
    mode = ((row + 1) * (col + 1)) // (total + 2)
    p = np.ones(len(a), dtype=float)  # at the mode the observed table is the most likely one: p = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        thr = hypergeom.logpmf(a, total, col, row) + np.log1p(1e-7)
        for rows, sign in ((np.flatnonzero(a < mode), 1), (np.flatnonzero(a > mode), -1)):
            if not rows.size:
                continue
            t, k, n, obs = total[rows], col[rows], row[rows], a[rows]

            def no_more_likely(x: np.ndarray, i: np.ndarray) -> np.ndarray:
                return np.asarray(hypergeom.logpmf(sign * x, t[i], k[i], n[i]) <= thr[rows][i], dtype=bool)

            if sign == 1:  # observed below the mode: P(X <= a) + P(X >= x2), x2 the first x in [mode, hi] no more likely
                x2 = _first_true(mode[rows], hi[rows] + 1, no_more_likely)
                p[rows] = hypergeom.cdf(obs, t, k, n) + hypergeom.sf(x2 - 1, t, k, n)
            else:  # observed above: P(X >= a) + P(X <= x1), x1 the last x in [lo, mode] no more likely (searched on -x)
                x1 = -_first_true(-mode[rows], -lo[rows] + 1, no_more_likely)
                p[rows] = hypergeom.sf(obs - 1, t, k, n) + np.where(x1 >= lo[rows], hypergeom.cdf(x1, t, k, n), 0.0)
    return np.minimum(p, 1.0)


def fisher_many(
    a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray, c: Sequence[int] | np.ndarray,
    d: Sequence[int] | np.ndarray, or_kind: Literal["conditional", "sample"] = "sample",
) -> dict[str, np.ndarray]:
    """`fisher_2x2` for many tables [[a, b], [c, d]] at once: arrays odds_ratio, ci_low, ci_high, p_value.

    The same numbers as calling fisher_2x2 on each table (the tests check it), fast enough for a
    co-occurrence matrix: p-values in one vectorised pass; the sample odds ratio and its Woolf interval
    are the textbook formulas statsmodels' Table2x2 uses (log odds ratio +/- z * sqrt(sum of 1/cell)).
    The conditional odds ratio has no closed form and stays one scipy call per table.
    """
    a, b, c, d = (np.asarray(v, dtype=np.int64).reshape(-1) for v in (a, b, c, d))
    if not (len(a) == len(b) == len(c) == len(d)):
        raise ValueError("a, b, c and d must have the same length")
    negative = np.flatnonzero(np.minimum.reduce([a, b, c, d]) < 0)
    if negative.size:
        bad = int(negative[0])
        raise ValueError(f"a 2 x 2 table needs non-negative counts, got {[[a[bad], b[bad]], [c[bad], d[bad]]]}")
    p = _fisher_p_many(a, b, c, d) if len(a) else np.array([], dtype=float)
    if or_kind == "conditional":
        res = np.array([_conditional_or(np.array([[w, x], [y, z]])) for w, x, y, z in zip(a, b, c, d, strict=True)], dtype=float).reshape(-1, 3)
        return {"odds_ratio": res[:, 0], "ci_low": res[:, 1], "ci_high": res[:, 2], "p_value": p}
    if or_kind != "sample":
        raise ValueError(f"unknown odds ratio kind {or_kind!r}: use one of {', '.join(OR_METHODS)}")
    cells = np.stack([a, b, c, d]).astype(float)
    empty_margin = (a + b == 0) | (c + d == 0) | (a + c == 0) | (b + d == 0)
    cells = np.where((cells == 0).any(axis=0), cells + 0.5, cells)  # Haldane-Anscombe, as fisher_2x2
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = cells[0] * cells[3] / (cells[1] * cells[2])  # computed as statsmodels does, to the last bit
        log_or = np.log(ratio)
        half = norm.ppf(0.975) * np.sqrt((1.0 / cells).sum(axis=0))
    nan = np.full(len(a), np.nan)
    return {"odds_ratio": np.where(empty_margin, nan, ratio),
            "ci_low": np.where(empty_margin, nan, np.exp(log_or - half)),
            "ci_high": np.where(empty_margin, nan, np.exp(log_or + half)), "p_value": p}


@dataclass(frozen=True)
class FunnelLimits:
    """Control limits as proportions (0-1) for each denominator, around the overall proportion."""

    p0: float
    lower_95: np.ndarray
    upper_95: np.ndarray
    lower_998: np.ndarray
    upper_998: np.ndarray
    method: str = FUNNEL_METHOD


def funnel_limits(denominators: Sequence[int] | np.ndarray, p0: float) -> FunnelLimits:
    """Funnel-plot limits at 95% and 99.8% for a unit with n reviews, when the true proportion is p0.

    Exact binomial quantiles divided by n; a unit is 'outside' when its proportion is below the lower
    or above the upper limit. Limits, not ranks: funnels compare areas without a league table.
    """
    n = np.asarray(denominators, dtype=float)
    out = {}
    for name, q in (("lower_95", 0.025), ("upper_95", 0.975), ("lower_998", 0.001), ("upper_998", 0.999)):
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(n > 0, binom.ppf(q, n, p0) / np.where(n > 0, n, 1), np.nan)
    return FunnelLimits(float(p0), out["lower_95"], out["upper_95"], out["lower_998"], out["upper_998"])


def bh_adjust(p_values: ArrayLike, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg q-values and reject flags; NaN p-values stay NaN and are not counted as tests."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    reject = np.zeros(p.shape, dtype=bool)
    ok = np.isfinite(p)
    if ok.any():
        r, qv, _, _ = multipletests(p[ok], alpha=alpha, method="fdr_bh")
        q[ok] = qv
        reject[ok] = r
    return q, reject
