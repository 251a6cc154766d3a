"""McNemar's test on hand-computed tables, and the interval of a mean over runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnlab.errors import ShapeError
from rnnlab.evaluate.significance import mcnemar, mcnemar_from_counts, summarize_runs


def correctness(both: int, model_only: int, baseline_only: int, neither: int):
    model = [True] * both + [True] * model_only + [False] * baseline_only + [False] * neither
    base = [True] * both + [False] * model_only + [True] * baseline_only + [False] * neither
    return np.array(model), np.array(base)


def test_exact_binomial_on_a_hand_computed_table():
    """b = 10, c = 2: p = 2 · P(X ≤ 2), X ~ Bin(12, ½) = 2 · (1 + 12 + 66) / 4096."""
    result = mcnemar(*correctness(50, 10, 2, 8))
    assert (result.model_only, result.baseline_only) == (10, 2)
    assert result.method == "exact binomial"
    assert result.p_value == pytest.approx(158 / 4096)


def test_chi_square_with_continuity_correction_on_a_hand_computed_table():
    """b = 40, c = 20: χ² = (|40 − 20| − 1)² / 60 = 361 / 60, p = erfc(√(χ²/2))."""
    result = mcnemar(*correctness(500, 40, 20, 30))
    assert result.method == "chi-square with continuity correction"
    assert result.statistic == pytest.approx(361 / 60)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(361 / 120)))
    stats = pytest.importorskip("scipy.stats")
    assert result.p_value == pytest.approx(stats.chi2.sf(361 / 60, 1))


def test_the_exact_test_is_used_below_25_discordant_items():
    assert mcnemar_from_counts(14, 10).method == "exact binomial"
    assert mcnemar_from_counts(15, 10).method.startswith("chi-square")
    assert mcnemar_from_counts(0, 0).p_value == 1.0
    assert mcnemar_from_counts(7, 7).p_value == 1.0  # capped at 1


@pytest.mark.parametrize(("b", "c"), [(10, 2), (3, 9), (40, 20), (120, 95)])
def test_agrees_with_scipy_binomtest_and_statsmodels(b, c):
    stats = pytest.importorskip("scipy.stats")
    exact = mcnemar_from_counts(b, c, exact=True)
    assert exact.p_value == pytest.approx(stats.binomtest(min(b, c), b + c, 0.5).pvalue)
    try:
        from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
    except ImportError:
        return
    table = [[100, b], [c, 50]]
    assert exact.p_value == pytest.approx(sm_mcnemar(table, exact=True).pvalue)
    chi = mcnemar_from_counts(b, c, exact=False)
    reference = sm_mcnemar(table, exact=False, correction=True)
    assert (chi.statistic, chi.p_value) == pytest.approx((reference.statistic, reference.pvalue))


def test_mcnemar_rejects_unpaired_input():
    with pytest.raises(ShapeError, match=r"equal length, got shapes \(3,\) and \(2,\)"):
        mcnemar([True, False, True], [True, False])


def test_summary_of_runs_is_the_student_t_interval():
    stats = pytest.importorskip("scipy.stats")
    values = [0.81, 0.84, 0.79, 0.83, 0.82]
    summary = summarize_runs(values)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    assert summary.mean == pytest.approx(0.818)
    assert summary.sd == pytest.approx(np.std(values, ddof=1))
    assert (summary.ci_low, summary.ci_high) == pytest.approx((low, high))
    single = summarize_runs([0.8])
    assert (single.sd, single.ci_low, single.ci_high) == (0.0, 0.8, 0.8)
