"""The forecaster's pieces: the seasonal-naive skip, the pinball loss, leak-free fitting and
windows, and the recursive decoder — on the real airline series."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
import torch

pytest.importorskip("pandas", reason="series are read with pandas (the forecast extra)")

from rnnlab.data.series import Series, load_series
from rnnlab.errors import ConfigError, DataError
from rnnlab.tasks.encoder import RecurrentConfig
from rnnlab.tasks.forecast.config import ForecastRunConfig
from rnnlab.tasks.forecast.data import Layout, fit_preparation, window_arrays
from rnnlab.tasks.forecast.fitting import (
    FittedForecaster,
    fit_forecaster,
    training_windows,
)
from rnnlab.tasks.forecast.model import RecurrentForecaster, seasonal_naive_scaled

QUICK = {"model.ensemble": 1, "train.epochs": 1, "data.steps_per_epoch": 3}


@pytest.fixture(scope="module")
def airline() -> Series:
    pytest.importorskip("sktime", reason="airline ships inside sktime")
    return load_series("airline").series[0]


def test_seasonal_naive_scaled_picks_one_season_back():
    window = torch.arange(30, dtype=torch.float32).view(1, 30)
    found = seasonal_naive_scaled(window, 8, 12)
    assert found.tolist() == [[18, 19, 20, 21, 22, 23, 24, 25]]
    assert seasonal_naive_scaled(window, 14, 12)[0, 12:].tolist() == [18, 19]
    assert seasonal_naive_scaled(window, 3, 1).tolist() == [[29, 29, 29]]


def test_untrained_model_forecasts_exactly_seasonal_naive(airline):
    """The head starts at zero, so before training the whole chain — log transform, window
    scaling, skip, reading back — must return the value one season back."""
    config = ForecastRunConfig()
    layout = Layout((), (), 12)
    member = RecurrentForecaster(layout.input_size, 0, 12, [0.1, 0.5, 0.9], 12, config.model)
    origin = len(airline) - 12
    prepared = fit_preparation(airline.head(origin), "auto", [])
    assert prepared.kind == "log"
    fitted = FittedForecaster([member.eval()], {airline.uid: prepared}, layout, 36, 12, 12,
                              config, [])  # fmt: skip
    quantiles = fitted.forecast(airline, origin)
    for q in range(3):
        np.testing.assert_allclose(quantiles[:, q], airline.values[origin - 12 : origin],
                                   rtol=1e-5)  # fmt: skip


def test_pinball_loss_is_the_mean_over_levels():
    config = ForecastRunConfig().model
    member = RecurrentForecaster(3, 0, 2, [0.1, 0.5, 0.9], 1, config)
    forecast = torch.tensor([[[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]])
    target = torch.tensor([[1.0, 3.0]])
    expected = 0
    for h, y in enumerate([1.0, 3.0]):
        for q, tau in enumerate([0.1, 0.5, 0.9]):
            e = y - float(forecast[0, h, q])
            expected += max(tau * e, (tau - 1) * e)
    assert float(member.loss(forecast, target)) == pytest.approx(expected / 6)


def test_quantile_levels_are_checked():
    with pytest.raises(ConfigError, match=r"must include 0\.5"):
        ForecastRunConfig().merge({"model.quantiles": [0.1, 0.9]})
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        ForecastRunConfig().merge({"model.quantiles": [0.0, 0.5]})
    with pytest.raises(ConfigError, match="increasing and distinct"):
        ForecastRunConfig().merge({"model.quantiles": [0.9, 0.5, 0.1]})


def test_the_recurrent_keys_are_the_shared_ones_with_the_forecaster_defaults():
    model = ForecastRunConfig().model
    assert isinstance(model, RecurrentConfig)
    recurrent = {f.name: getattr(model, f.name) for f in fields(RecurrentConfig)}
    assert recurrent == {
        "cell": "gru", "hidden_size": 16, "num_layers": 1, "bidirectional": False,
        "dropout": 0.0, "input_dropout": 0.0, "recurrent_dropout": 0.0, "weight_dropout": 0.0,
    }  # fmt: skip


def test_a_bidirectional_forecaster_is_refused_in_one_sentence():
    with pytest.raises(ConfigError, match=r"^Config key 'model\.bidirectional' is true, but "):
        ForecastRunConfig().merge({"model.bidirectional": True})


def test_a_run_config_written_before_the_shared_recurrent_keys_still_loads():
    stored = ForecastRunConfig().to_dict()
    del stored["model"]["bidirectional"]  # the key older files lack
    assert ForecastRunConfig.from_dict(stored) == ForecastRunConfig()


def test_training_windows_end_before_the_origin(airline):
    origin, lookback, horizon = 120, 24, 12
    prepared = {airline.uid: fit_preparation(airline.head(origin), "log", [])}
    rows = training_windows([airline], {airline.uid: origin}, prepared, Layout((), (), 12),
                            "window", lookback, horizon)  # fmt: skip
    assert len(rows) == origin - horizon - lookback + 1
    last_inputs, _, last_target, loc, scale = rows[-1]
    # The last window's target is exactly the 12 values before the origin.
    np.testing.assert_allclose(np.exp(loc + scale * last_target),
                               airline.values[origin - 12 : origin], rtol=1e-9)  # fmt: skip
    # Window scaling: the lookback standardised by its own mean and deviation.
    logs = np.log(airline.values[origin - 12 - lookback : origin - 12])
    np.testing.assert_allclose(last_inputs[:, 0], (logs - logs.mean()) / logs.std())


def test_a_future_that_would_leak_through_a_global_scaler_does_not(airline):
    """Flat training data and a huge future: a scaler (or Box-Cox λ) fitted on the whole
    series would change with the future; ours are fitted before the origin, so the fitted
    state and the forecast are the same whatever the future holds."""
    n, origin = 120, 100
    rng = np.random.default_rng(0)
    calm = 10 + rng.normal(0, 0.5, n)
    times = airline.times[:n]
    config = ForecastRunConfig().merge({**QUICK, "data.scaling": "series",
                                        "data.transform": "boxcox"})  # fmt: skip
    found = []
    for future in (calm[origin:], np.full(n - origin, 1000.0)):
        series = Series("s", times, np.concatenate([calm[:origin], future]))
        fitted = fit_forecaster([series], {"s": origin}, config, season=12, lookback=24,
                                horizon=12)  # fmt: skip
        found.append((fitted.preparations["s"], fitted.forecast(series, origin)))
    (prep_a, forecast_a), (prep_b, forecast_b) = found
    assert prep_a == prep_b
    train_part = prep_a.transform(calm[:origin])
    assert prep_a.loc == pytest.approx(train_part.mean())
    np.testing.assert_array_equal(forecast_a, forecast_b)
    assert forecast_a[:, 1].max() < 20  # nothing of the 1,000s reached it


def test_forecasts_read_only_the_past_of_their_origin(airline):
    config = ForecastRunConfig().merge(QUICK)
    origin = len(airline) - 12
    fitted = fit_forecaster([airline], {airline.uid: origin}, config, season=12, lookback=36,
                            horizon=12)  # fmt: skip
    changed = Series(airline.uid, airline.times,
                     np.concatenate([airline.values[:origin], np.full(12, 1.0)]))  # fmt: skip
    np.testing.assert_array_equal(fitted.forecast(airline, origin),
                                  fitted.forecast(changed, origin))  # fmt: skip


def test_recursive_decoder_feeds_its_median_back(airline):
    config = ForecastRunConfig().merge({**QUICK, "model.decoder": "recursive"})
    origin = len(airline) - 6
    fitted = fit_forecaster([airline], {airline.uid: origin}, config, season=12, lookback=24,
                            horizon=6)  # fmt: skip
    assert fitted.members[0].horizon == 1
    quantiles = fitted.forecast(airline, origin)
    assert quantiles.shape == (6, 5)
    assert np.all(np.diff(quantiles, axis=1) >= 0)
    # Step 2 is the one-step forecast from a history that ends with step 1's median.
    median = fitted.levels.index(0.5)
    history = Series(airline.uid, airline.times[: origin + 1],
                     np.append(airline.values[:origin], quantiles[0, median]))  # fmt: skip
    np.testing.assert_allclose(fitted.forecast(history, origin + 1, 1)[0], quantiles[1],
                               rtol=1e-6)  # fmt: skip


def test_window_arrays_refuse_an_origin_inside_the_lookback(airline):
    prepared = fit_preparation(airline.head(100), "log", [])
    with pytest.raises(DataError, match="needs 36 steps before it"):
        window_arrays(airline, prepared, Layout((), (), 12), "window", 20, 36, 12)


def test_covariates_future_ones_are_read_past_ones_stop_at_the_origin(airline):
    """A future covariate is read for the forecast steps (changing it there changes the
    forecast); a past covariate is read up to the origin only (changing it after does not);
    forecasting past the end of a future covariate is refused in one sentence."""
    n = len(airline)
    origin = n - 12
    rng = np.random.default_rng(1)
    promo = rng.integers(0, 2, n).astype(float)
    temperature = rng.normal(20, 5, n)
    series = Series(airline.uid, airline.times, airline.values * (1 + 0.1 * promo),
                    {"promo": promo, "temperature": temperature})  # fmt: skip
    config = ForecastRunConfig().merge(
        {**QUICK, "train.epochs": 2, "data.future_covariates": ["promo"],
         "data.past_covariates": ["temperature"]}
    )  # fmt: skip
    fitted = fit_forecaster([series], {series.uid: origin}, config, season=12, lookback=36,
                            horizon=12)  # fmt: skip
    assert fitted.layout.input_size == 1 + 1 + 1 + 2  # value, past, future, calendar
    base = fitted.forecast(series, origin)

    def changed(name: str) -> Series:
        covariates = dict(series.covariates)
        covariates[name] = covariates[name].copy()
        covariates[name][origin:] = 1 - covariates[name][origin:] if name == "promo" else 99.0
        return Series(series.uid, series.times, series.values, covariates)

    np.testing.assert_array_equal(fitted.forecast(changed("temperature"), origin), base)
    assert not np.allclose(fitted.forecast(changed("promo"), origin), base)
    with pytest.raises(DataError, match=r"needs future covariate 'promo' for 3 step\(s\)"):
        fitted.forecast(series, n - 9, 12)
