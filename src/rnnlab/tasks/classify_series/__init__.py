"""Time-series classification: a recurrent classifier over the values of equal-length series
(UCR/UEA ``.ts`` files; the built-in ``gunpoint`` and ``italy_power_demand``), evaluated as
the text classifier is — accuracy and macro-F1 with bootstrap intervals — beside the majority
class and 1-nearest-neighbour (Euclidean, and DTW with dtaidistance), McNemar against 1-NN.
Importing the package registers the ``"classify_series"`` task.
"""

from rnnlab.tasks.base import Task, register_task
from rnnlab.tasks.classify_series.config import COMMAND, SeriesClassifyRunConfig
from rnnlab.tasks.classify_series.predictor import SeriesPredictor
from rnnlab.tasks.classify_series.workflow import evaluate_series_run, train_series_classifier

__all__ = ["TASK", "SeriesClassifyRunConfig", "SeriesPredictor", "train_series_classifier"]

TASK = register_task(
    Task(
        name="classify_series",
        title="series classifier",
        config_type=SeriesClassifyRunConfig,
        command=COMMAND,
        predictor_type=SeriesPredictor,
        train=train_series_classifier,
        evaluate=evaluate_series_run,
        endpoints=("predict",),
        app="rnnlab.serve.series:create_series_app",
    )
)
