"""Serve a trained model: an HTTP API with micro-batching, limits, an optional API key, and a
web page.

>>> import rnnlab
>>> from rnnlab.serve import create_app, serve
>>> serve(create_app(rnnlab.load("runs/imdb"), run="runs/imdb"), port=8000)

Needs FastAPI and uvicorn: ``pip install "rnnlab[serve]"``.
"""

from collections.abc import Callable
from typing import Any

from rnnlab.serve.app import create_app
from rnnlab.serve.config import ServeConfig
from rnnlab.serve.server import is_loopback, running_server, serve

__all__ = [
    "APPS",
    "ServeConfig",
    "app_for",
    "create_app",
    "is_loopback",
    "running_server",
    "serve",
]


def _lm_app(*args: Any, **kwargs: Any) -> Any:
    from rnnlab.serve.lm import create_lm_app

    return create_lm_app(*args, **kwargs)


def _forecast_app(*args: Any, **kwargs: Any) -> Any:
    from rnnlab.serve.forecast import create_forecast_app

    return create_forecast_app(*args, **kwargs)


def _series_app(*args: Any, **kwargs: Any) -> Any:
    from rnnlab.serve.series import create_series_app

    return create_series_app(*args, **kwargs)


# The application of each task that offers HTTP endpoints (its Task.endpoints), by task name.
APPS: dict[str, Callable[..., Any]] = {
    "classify": create_app,
    "classify_series": _series_app,
    "forecast": _forecast_app,
    "lm": _lm_app,
}


def app_for(predictor: Any, **options: Any) -> Any:
    """The FastAPI application for ``predictor``'s task (``run``, ``engine``, ``config``).

    Raises:
        ConfigError: ``config`` sets something this task's server cannot honour (micro-batching
            where requests run one at a time).
    """
    return APPS[predictor.task](predictor, **options)
