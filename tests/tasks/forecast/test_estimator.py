"""``Forecaster``: fit on a real series, predict its next steps, score them — the same forecast
as a run's backtest window — and the scikit-learn protocol (get_params, clone)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pandas", reason="series are read with pandas (the forecast extra)")
pytest.importorskip("statsforecast", reason="the combination fits statsforecast's models")
pytest.importorskip("sktime", reason="airline ships inside sktime")

import pandas as pd

import rnnlab
from rnnlab.data.series import load_series
from rnnlab.errors import ConfigError, DataError
from rnnlab.tasks.forecast.backtest import run_backtest
from rnnlab.tasks.forecast.config import ForecastRunConfig
from rnnlab.tasks.forecast.estimator import Forecaster
from rnnlab.tasks.params import NotFittedError
from rnnlab.threads import torch_threads

TINY = {"horizon": 12, "ensemble": 2, "epochs": 1, "steps_per_epoch": 3, "hidden_size": 4,
        "combine": "none", "device": "cpu"}  # fmt: skip


@pytest.fixture(scope="module")
def airline() -> pd.Series:
    series = load_series("airline").series[0]
    return pd.Series(series.values, index=series.times, name="airline")


@pytest.fixture(scope="module")
def fitted(airline) -> Forecaster:
    with torch_threads(1):
        return Forecaster(**TINY).fit(airline[:-12])


def _quantiles(frame: pd.DataFrame, levels: list[float]) -> np.ndarray:
    return frame[[f"q{q:g}" for q in levels]].to_numpy()


def test_fit_predict_score_match_the_backtest_of_a_run(fitted, airline):
    forecast = fitted.predict()
    assert list(forecast["ds"]) == [str(t.date()) for t in airline.index[-12:]]
    assert {"unique_id", "forecast", "lo-80", "hi-95"} <= set(forecast.columns)
    assert (forecast["unique_id"] == "airline").all()
    config = ForecastRunConfig().merge(
        {"data.horizon": 12, "model.ensemble": 2, "train.epochs": 1, "data.steps_per_epoch": 3,
         "model.hidden_size": 4, "model.combine": "none", "train.device": "cpu"}
    )  # fmt: skip
    with torch_threads(1):
        backtest = run_backtest(config, load_series("airline"), baselines=[])
    levels = fitted.fitted_.levels
    np.testing.assert_array_equal(_quantiles(forecast, levels), backtest.results[0].quantiles)
    metrics = fitted.evaluate(airline)  # the whole series: the last 12 steps are scored
    assert metrics["mase"] == backtest.metrics["mase"]
    assert fitted.score(airline[-12:]) == -metrics["mase"]
    assert all(best >= 1 for best in fitted.best_epochs_) and len(fitted.history_) == 1


def test_saved_forecaster_loads_and_forecasts_the_same(fitted, tmp_path):
    predictor = rnnlab.load(fitted.save(tmp_path / "airline.safetensors"))
    again = pd.DataFrame(predictor.predict(None))
    pd.testing.assert_frame_equal(again, fitted.predict())


def test_combined_forecaster_scores_the_combination_and_the_network(airline):
    with torch_threads(1):
        model = Forecaster(**{**TINY, "combine": "inverse_mase"}).fit(airline[:-12])
    metrics = model.evaluate(airline[-12:])
    assert metrics["forecast"] == "combination"
    assert np.isfinite(metrics["mase"]) and np.isfinite(metrics["rnn_mase"])
    assert metrics["mase"] != metrics["rnn_mase"]


@pytest.mark.parametrize(
    "check",
    [
        "check_no_attributes_set_in_init", "check_get_params_invariance", "check_set_params",
        "check_parameters_default_constructible", "check_estimator_cloneable",
        "check_estimator_repr", "check_do_not_raise_errors_in_init_or_set_params",
        "check_mixin_order", "check_estimators_unfitted",
    ],
)  # fmt: skip
def test_scikit_learn_checks_that_apply(check):
    """The parameter and construction checks of tests/tasks/test_sklearn.py; those that fit
    on numeric 2-D arrays do not apply to a series."""
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("Forecaster", Forecaster(**TINY))


def test_parameters_follow_scikit_learn(airline):
    from sklearn.base import clone

    model = Forecaster(horizon=6, **{"train.lr": 0.01})
    assert model.get_params() == {"config": None, "horizon": 6, "train.lr": 0.01}
    copy = clone(model.set_params(ensemble=2))
    assert copy.get_params() == {"config": None, "horizon": 6, "train.lr": 0.01, "ensemble": 2}
    with pytest.raises(NotFittedError, match="fit"):
        copy.predict()
    with pytest.raises(ConfigError):
        Forecaster(horizn=6).fit(airline)


@pytest.mark.parametrize(
    ("actual", "message"),
    [
        (lambda s: s[:-12], "no values after the end"),
        (lambda s: s[-11:], "must start at 1960-01-01"),
        (lambda s: pd.concat([s, s[-12:].set_axis(s.index[-12:] + pd.DateOffset(years=1))]),
         "forecasts 12 steps"),
        (lambda s: s.to_numpy(), "cannot forecast a ndarray"),
    ],
)  # fmt: skip
def test_bad_input_is_one_sentence(fitted, airline, actual, message):
    with pytest.raises(DataError, match=message) as error:
        fitted.score(actual(airline))
    assert str(error.value).count(". ") == 0
