"""The statsforecast baselines as rnnlab reads them: naive, seasonal naive and drift equal
their definitions on a real series, and the automatic models give finite forecasts with
intervals around them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("statsforecast", reason="the baselines come from statsforecast")

from rnnlab.data.series import load_series
from rnnlab.evaluate.forecast_baselines import baseline_forecasts


@pytest.fixture(scope="module")
def airline():
    pytest.importorskip("sktime", reason="airline ships inside sktime")
    return load_series("airline").series[0]


def test_simple_baselines_equal_their_definitions(airline):
    history, times = airline.values[:-12], airline.times[:-12]
    found = baseline_forecasts(times, history, 12, "MS", 12, ["naive", "seasonal_naive", "drift"])
    np.testing.assert_allclose(found.point["naive"], np.full(12, history[-1]))
    np.testing.assert_allclose(found.point["seasonal_naive"], history[-12:])
    slope = (history[-1] - history[0]) / (len(history) - 1)
    np.testing.assert_allclose(found.point["drift"], history[-1] + slope * np.arange(1, 13))
    assert not found.failed


def test_automatic_models_forecast_with_intervals(airline):
    found = baseline_forecasts(airline.times[:-12], airline.values[:-12], 12, "MS", 12,
                               ["ets", "arima", "theta"])  # fmt: skip
    for name in ("ets", "arima", "theta"):
        point = found.point[name]
        assert point.shape == (12,) and np.isfinite(point).all()
        assert np.all(found.low80[name] <= point) and np.all(point <= found.high80[name])
        # Each is a sensible forecast of the airline's last year (within 25 %).
        assert np.abs(point / airline.values[-12:] - 1).max() < 0.25
