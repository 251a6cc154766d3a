"""Configuration of series classification runs: ``[model]``, ``[data]``, ``[train]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rnnlab.config import (
    ConfigSection,
    RunConfig,
    TrainConfig,
    override_defaults,
    refuse_bucketing,
    refuse_dropout_without_layers,
    setting,
)
from rnnlab.tasks.encoder import POOLINGS, RecurrentConfig

__all__ = ["SeriesClassifyDataConfig", "SeriesClassifyModelConfig", "SeriesClassifyRunConfig"]


@dataclass(frozen=True)
@override_defaults(
    hidden_size=32, num_layers=1, bidirectional=True, input_dropout=0.0, weight_dropout=0.0
)
class SeriesClassifyModelConfig(RecurrentConfig):
    """values (B, T, 1) → bidirectional GRU → concat pooling [last, max, mean] → linear; the
    recurrent keys are :class:`~rnnlab.tasks.encoder.RecurrentConfig`'s."""

    pooling: str = setting("concat", choices=POOLINGS)


@dataclass(frozen=True)
class SeriesClassifyDataConfig(ConfigSection):
    """The training series (a .ts file or gunpoint / italy_power_demand) and the test ones."""

    section: ClassVar[str] = "data"

    data: str = setting("", aliases=("train", "dataset"))
    test: str = setting("")
    # Each series standardised by its own mean and deviation (the UCR convention).
    znorm: bool = setting(True, aliases=("normalize",))


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
