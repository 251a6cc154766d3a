"""rnnlab: recurrent sequence models (RNN, LSTM, GRU) for text and time series.

>>> import rnnlab
>>> texts = ["a fine, moving film", "dull and far too long", "lovely acting", "a boring plot"]
>>> labels = ["pos", "neg", "pos", "neg"]
>>> clf = rnnlab.TextClassifier(epochs=1, hidden_size=8).fit(texts * 5, labels * 5)
>>> clf.save("films.safetensors")
PosixPath('films.safetensors')
>>> predictor = rnnlab.load("films.safetensors")  # any task's run directory or model file
>>> predictor.labels
['neg', 'pos']
>>> predictor.predict(["What a film!"])  # doctest: +ELLIPSIS
['...']
>>> # rnnlab.evaluate_run("runs/imdb", "other.csv").metrics["accuracy"]: a run's evaluation
>>> tagger = rnnlab.SequenceTagger(epochs=3)  # .fit(tokens, tags): lists of tokens, of tags
>>> lm = rnnlab.LanguageModel(epochs=2)  # .fit(lines)
>>> forecaster = rnnlab.Forecaster(horizon=12)  # .fit(series)
>>> series_clf = rnnlab.TimeSeriesClassifier(epochs=20)  # .fit(X, y)
>>> mt = rnnlab.Translator(epochs=10)  # .fit(german, english), then mt.predict(["Ein Hund."])

Heavy modules (torch) load on first use, so ``import rnnlab`` and ``rnnlab --help`` stay quick.
Every function here finds the task of a model file through the task registry
(:mod:`rnnlab.tasks.base`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The one place the version is written: pyproject.toml reads this line statically
# ([tool.setuptools.dynamic]), so the installed distribution's version is this string;
# `rnnlab --version` reads the distribution's and falls back to this one in a source tree never
# installed.
__version__ = "0.2.0"

__all__ = [
    "Evaluation",
    "Forecaster",
    "LanguageModel",
    "Predictor",
    "SequenceTagger",
    "TextClassifier",
    "TimeSeriesClassifier",
    "Translator",
    "__version__",
    "evaluate_run",
    "load",
    "predict",
]

# Names loaded on first use: name → the module that defines it.
_LAZY = {
    "Evaluation": "rnnlab.tasks.base",
    "Predictor": "rnnlab.tasks.base",
    "Forecaster": "rnnlab.tasks.forecast.estimator",
    "LanguageModel": "rnnlab.tasks.lm.estimator",
    "SequenceTagger": "rnnlab.tasks.tag.estimator",
    "TextClassifier": "rnnlab.tasks.classify.estimator",
    "TimeSeriesClassifier": "rnnlab.tasks.classify_series.estimator",
    "Translator": "rnnlab.tasks.translate.estimator",
}

if TYPE_CHECKING:
    from rnnlab.tasks.base import Evaluation, Predictor
    from rnnlab.tasks.classify.estimator import TextClassifier
    from rnnlab.tasks.classify_series.estimator import TimeSeriesClassifier
    from rnnlab.tasks.forecast.estimator import Forecaster
    from rnnlab.tasks.lm.estimator import LanguageModel
    from rnnlab.tasks.tag.estimator import SequenceTagger
    from rnnlab.tasks.translate.estimator import Translator


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def load(path: Any, device: Any = "cpu", engine: str = "torch") -> Predictor:
    """Load a run directory or model file as its task's :class:`Predictor` (a
    ``TextPredictor`` for a classifier, a ``TagPredictor`` for a tagger, …);
    ``engine="onnx"`` runs the model on onnxruntime."""
    from rnnlab.deploy.engines import load as _load

    return _load(path, device=device, engine=engine)


def evaluate_run(
    run: Any,
    data: str | None = None,
    *,
    name: str | None = None,
    options: dict[str, Any] | None = None,
    write: bool = True,
) -> Evaluation:
    """Evaluate a run on ``data`` (default: its own test data) with its task's evaluation.

    (Not ``rnnlab.evaluate``: that name is the package of metrics, ``rnnlab.evaluate``.)

    Other data is written to ``RUN/evaluations/<name>/`` and never replaces the run's own
    ``metrics.json``; ``options`` are data-reading keys of the task (``text_col``,
    ``format``, ``tag_col``, …)."""
    from rnnlab.tasks.base import task_of_run

    return task_of_run(run).evaluate(run, data, name=name, options=options, write=write)


def predict(run: Any, inputs: Any, *, batch_size: int = 64, engine: str = "torch") -> list:
    """The predictions of a run's model for ``inputs`` (texts, token lists, … as its task
    takes them): ``rnnlab.load(run).predict(inputs)``."""
    return load(run, engine=engine).predict(inputs, batch_size=batch_size)
