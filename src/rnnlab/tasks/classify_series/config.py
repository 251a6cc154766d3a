"""Configuration of series classification runs: ``[model]``, ``[data]``, ``[train]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rnnlab.config import (
    ConfigSection,
    RunConfig,
    TrainConfig,
    override_defaults,
    refuse_bucketing,
    refuse_dropout_without_layers,
    setting,
)
from rnnlab.tasks.base import TrainCommand
from rnnlab.tasks.encoder import POOLINGS, RecurrentConfig

__all__ = ["SeriesClassifyDataConfig", "SeriesClassifyModelConfig", "SeriesClassifyRunConfig"]


@dataclass(frozen=True)
@override_defaults(
    hidden_size=32, num_layers=1, bidirectional=True, input_dropout=0.0, weight_dropout=0.0
)
class SeriesClassifyModelConfig(RecurrentConfig):
    """values (B, T, 1) → bidirectional GRU → concat pooling [last, max, mean] → linear; the
    recurrent keys are :class:`~rnnlab.tasks.encoder.RecurrentConfig`'s."""

    pooling: str = setting(
        "concat",
        choices=POOLINGS,
        help="How the recurrent states become one vector: last, mean, max or concat.",
    )


@dataclass(frozen=True)
class SeriesClassifyDataConfig(ConfigSection):
    """The training series (a .ts file or gunpoint / italy_power_demand) and the test ones."""

    section: ClassVar[str] = "data"

    data: str = setting(
        "",
        aliases=("train", "dataset"),
        help="Training series: a .ts file, gunpoint or italy_power_demand.",
    )
    test: str = setting("", help="Test series (.ts); built-in sets bring their own.")
    # Each series standardised by its own mean and deviation (the UCR convention).
    znorm: bool = setting(
        True,
        aliases=("normalize",),
        help="Standardise each series by its own mean and deviation (the UCR convention).",
    )


def _train_defaults() -> TrainConfig:
    """200 epochs of batches of 16 (UCR training sets hold tens of series), Adam 3e-3 with
    L2 1e-4, no early stopping: there is no validation data to spare, so the best epoch is
    the one with the lowest ``train_loss``."""
    return TrainConfig(epochs=200, batch_size=16, lr=3e-3, weight_decay=1e-4, clip_norm=1.0,
                       monitor="train_loss", monitor_mode="min", checkpoint_every=0)  # fmt: skip


@dataclass(frozen=True)
class SeriesClassifyRunConfig(RunConfig):
    """Everything a series classification run needs; written beside the run as
    ``config.toml``."""

    model: SeriesClassifyModelConfig = field(default_factory=SeriesClassifyModelConfig)
    data: SeriesClassifyDataConfig = field(default_factory=SeriesClassifyDataConfig)
    train: TrainConfig = field(default_factory=_train_defaults)

    def check(self) -> None:
        """Settings a series classification run would otherwise accept and ignore."""
        refuse_dropout_without_layers(
            self.model, ("input_dropout", "recurrent_dropout", "weight_dropout")
        )
        refuse_bucketing(self.train, "the series of a run all have one length")


def _headline(metrics: dict[str, Any], split: str) -> str:
    dtw = metrics.get("baseline_1nn_dtw_accuracy")
    return (
        f"{split} accuracy {metrics['accuracy']:.4f} [{metrics['accuracy_ci_low']:.4f}, "
        f"{metrics['accuracy_ci_high']:.4f}]  1-NN (Euclidean) "
        f"{metrics['baseline_1nn_accuracy']:.4f}  "
        + ("" if dtw is None else f"1-NN (DTW) {dtw:.4f}  ")
        + f"majority {metrics['baseline_majority_accuracy']:.4f}  McNemar vs 1-NN p = "
        f"{metrics['mcnemar_1nn_p_value']:.4g}  ({metrics['test_size']} series)"
    )


# The metrics ``--seeds`` summarises: the classifier's and its 1-NN baseline's.
SERIES_SCORES = ("accuracy", "macro_f1", "baseline_1nn_accuracy")

COMMAND = TrainCommand(
    help="Train a recurrent classifier of time series (bidirectional GRU over the values) and "
    "evaluate it beside the majority class and 1-nearest-neighbour.",
    examples=(
        "rnnlab train classify-series --data gunpoint --out runs/gunpoint",
        "rnnlab train classify-series --data train.ts --test test.ts --out runs/ecg",
    ),
    seeds=SERIES_SCORES,
    headline=_headline,
)
