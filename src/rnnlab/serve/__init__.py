"""Serve a trained model: an HTTP API with micro-batching, limits, an optional API key, and a
web page.

>>> import rnnlab
>>> from rnnlab.serve import create_app, serve
>>> texts = ["a wonderful, moving film", "dull and far too long", "lovely acting", "dull plot"]
>>> labels = ["pos", "neg", "pos", "neg"]
>>> clf = rnnlab.TextClassifier(epochs=1, hidden_size=8).fit(texts * 5, labels * 5)
>>> app = create_app(rnnlab.load(clf.save("films.safetensors")))  # or run="runs/imdb"
>>> [route.path for route in app.routes if "POST" in getattr(route, "methods", ())]
... # doctest: +ELLIPSIS
[...'/predict'...]
>>> serve(app, port=8000)  # listens until stopped  # doctest: +SKIP

Needs FastAPI and uvicorn: ``pip install "rnnlab[serve]"``.
"""

from typing import Any

from rnnlab.errors import ConfigError
from rnnlab.serve.app import create_app
from rnnlab.serve.config import ServeConfig
from rnnlab.serve.server import is_loopback, running_server, serve

__all__ = [
    "ServeConfig",
    "app_for",
    "create_app",
    "is_loopback",
    "running_server",
    "serve",
]


def app_for(predictor: Any, **options: Any) -> Any:
    """The FastAPI application for ``predictor``'s task (``run``, ``engine``, ``config``):
    the one its :class:`~rnnlab.tasks.base.Task` names as its ``app``.

    Raises:
        ConfigError: the task offers no HTTP service, or ``config`` sets something this
            task's server cannot honour (micro-batching where requests run one at a time).
    """
    from rnnlab.tasks.base import get_task

    task = get_task(predictor.task)
    factory = task.door("app")
    if factory is None:
        run = options.get("run")
        raise ConfigError(
            f"rnnlab serve{'' if run is None else f' {run}'}: a {task.title} run has no HTTP "
            "service; label its inputs with rnnlab predict instead."
        )
    return factory(predictor, **options)
