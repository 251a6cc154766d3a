"""Forecasting: GRU/LSTM forecasts of time series, backtested beside statistical baselines.

Series (long ``unique_id, ds, y`` or wide tables, or a built-in series) → windows of
``lookback`` steps → an ensemble of ``rnnlab.nn`` recurrent forecasters with a direct
multi-horizon quantile head → a rolling-origin backtest beside naive, seasonal naive, drift,
AutoETS, AutoARIMA and Theta (statsforecast) → MASE, sMAPE, MAE, RMSE, pinball loss and
interval coverage. The package follows the task contract of :mod:`rnnlab.tasks.base`
(``config``, ``data``, ``model``, ``estimator``, ``predictor``, ``workflow``, plus ``fitting``,
``backtest`` and ``combine``); importing it registers the ``"forecast"`` task.
"""

from rnnlab.tasks.base import Task, register_task
from rnnlab.tasks.forecast.config import (
    COMMAND,
    ForecastDataConfig,
    ForecastModelConfig,
    ForecastRunConfig,
)
from rnnlab.tasks.forecast.predictor import ForecastPredictor
from rnnlab.tasks.forecast.workflow import evaluate_forecast_run, train_forecast

__all__ = [
    "TASK",
    "ForecastDataConfig",
    "ForecastModelConfig",
    "ForecastPredictor",
    "ForecastRunConfig",
    "evaluate_forecast_run",
    "train_forecast",
]

TASK = register_task(
    Task(
        name="forecast",
        title="forecaster",
        config_type=ForecastRunConfig,
        command=COMMAND,
        predictor_type=ForecastPredictor,
        train=train_forecast,
        evaluate=evaluate_forecast_run,
        read_options=("time_col", "target_col", "id_col", "freq", "fill"),
        predict_options=("time_col", "target_col", "id_col", "freq", "fill"),
        endpoints=("forecast",),
        app="rnnlab.serve.forecast:create_forecast_app",
        write_predictions="rnnlab.cli.predict:predict_forecast",
        print_metrics="rnnlab.cli.display:print_forecast",
    )
)
