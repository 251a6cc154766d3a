"""Text classification: embedding → RNN/LSTM/GRU → pooling → softmax over the labels.

Tables of texts and labels (CSV, TSV, JSONL, Parquet) and the built-in datasets. The package
follows the task contract of :mod:`rnnlab.tasks.base`: ``config``, ``data``, ``model``,
``estimator``, ``predictor``, ``workflow``, ``export``, plus ``analysis`` (intervals,
baselines, significance, error tables); importing it registers the ``"classify"`` task.
"""

from rnnlab.tasks.base import Task, register_task
from rnnlab.tasks.classify.config import COMMAND, ClassifyRunConfig, DataConfig, ModelConfig
from rnnlab.tasks.classify.export import classifier_graph, classifier_metadata
from rnnlab.tasks.classify.predictor import TextPredictor
from rnnlab.tasks.classify.workflow import evaluate_run, train_classifier

__all__ = [
    "TASK",
    "ClassifyRunConfig",
    "DataConfig",
    "ModelConfig",
    "TextClassifier",
    "TextPredictor",
    "evaluate_run",
    "train_classifier",
]

TASK = register_task(
    Task(
        name="classify",
        title="text classifier",
        config_type=ClassifyRunConfig,
        command=COMMAND,
        predictor_type=TextPredictor,
        train=train_classifier,
        evaluate=evaluate_run,
        read_options=(
            "text_col",
            "label_col",
            "format",
            "skip_empty",
            "encoding",
            "delimiter",
            "sheet",
        ),
        predict_options=("text_col", "format", "skip_empty", "encoding", "delimiter", "sheet"),
        export_graph=classifier_graph,
        export_metadata=classifier_metadata,
        endpoints=("predict", "explain"),
        explainable=True,
        app="rnnlab.serve.app:create_app",
        write_predictions="rnnlab.cli.predict:predict_table",
        print_metrics="rnnlab.cli.display:print_classification",
        predict_backends=("ray",),
    )
)


def __getattr__(attribute: str) -> object:
    """``TextClassifier`` on first use: it brings scikit-learn, which loading a model never
    needs."""
    if attribute == "TextClassifier":
        from rnnlab.tasks.classify.estimator import TextClassifier

        return TextClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
