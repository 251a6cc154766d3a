"""Language models: next-token LSTM/GRU models on ``rnnlab.nn``, word or character level.

Corpora (PTB, People's Daily, a classification dataset's training texts, any text file) →
one token stream → truncated-BPTT training with the AWD-LSTM regularisers → exact
perplexity / bits per token; generation and surprisal through :class:`LMPredictor`. The
package follows the task contract of :mod:`rnnlab.tasks.base` (``config``, ``data``,
``model``, ``predictor``, ``workflow``, ``export``; no scikit-learn estimator: a language
model has no labels to fit) and importing it
registers the ``"lm"`` task.
"""

from rnnlab.tasks.base import Task, register_task
from rnnlab.tasks.lm.config import COMMAND, LMDataConfig, LMModelConfig, LMRunConfig
from rnnlab.tasks.lm.export import lm_graph, lm_metadata
from rnnlab.tasks.lm.predictor import LMPredictor, TextSurprisal
from rnnlab.tasks.lm.workflow import evaluate_lm_run, train_lm

__all__ = [
    "TASK",
    "LMDataConfig",
    "LMModelConfig",
    "LMPredictor",
    "LMRunConfig",
    "TextSurprisal",
    "evaluate_lm_run",
    "train_lm",
]

TASK = register_task(
    Task(
        name="lm",
        title="language model",
        config_type=LMRunConfig,
        command=COMMAND,
        predictor_type=LMPredictor,
        train=train_lm,
        evaluate=evaluate_lm_run,
        endpoints=("generate", "score"),
        app="rnnlab.serve.lm:create_lm_app",
        export_graph=lm_graph,
        export_metadata=lm_metadata,
    )
)
