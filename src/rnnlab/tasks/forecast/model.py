r"""A recurrent forecaster: the window → ``rnnlab.nn`` GRU/LSTM → a multi-horizon quantile head.

    inputs (B, L, F) ─► GRU/LSTM layers ─► h_L (B, Hd)
    [h_L, future features of the H steps (B, H·F_future)] ─► Linear ─► (B, H, Q)
    + seasonal naive of the scaled window, x̃_{L−m+(h mod m)} (skip = "seasonal")

The skip term makes the head learn a correction to seasonal naive (the head starts at zero);
with m = 1 it is the last value (naive). The loss is the mean pinball loss over the
quantile levels τ_q, (1/(B·H·Q)) Σ max(τ_q·e, (τ_q − 1)·e) with e = y − ŷ_q, or MAE / MSE
for point forecasts, on the scaled values. A ``"recursive"`` decoder is the same network with
H = 1, fed its own median forecast step by step (:func:`recursive_forecast`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

import rnnlab.nn as rnn
from rnnlab.tasks.encoder import recurrent_layer
from rnnlab.tasks.forecast.data import WindowBatch

__all__ = ["RecurrentForecaster", "seasonal_naive_scaled"]


def seasonal_naive_scaled(window: Tensor, horizon: int, season: int) -> Tensor:
    """(B, H): x_{L−m+(h mod m)} of each window's values (B, L) for h = 0 … H−1 (the last
    value when m = 1 or the window is shorter than a season)."""
    steps = window.shape[1]
    if season <= 1 or steps < season:
        return window[:, -1:].expand(-1, horizon)
    index = torch.arange(horizon, device=window.device) % season + (steps - season)
    return window[:, index]


class RecurrentForecaster(nn.Module):
    """Quantile forecasts of ``horizon`` steps from windows of ``layout.input_size`` features.

    Args:
        input_size: F, the features of each window step.
        future_size: F_future, the features of each forecast step.
        horizon: H the head predicts (1 for the recursive decoder).
        levels: the quantile levels (``[0.5]`` for point losses).
        season: m, for the seasonal-naive skip.
        config: the ``[model]`` section.
    """

    def __init__(
        self,
        input_size: int,
        future_size: int,
        horizon: int,
        levels: list[float],
        season: int,
        config: Any,
    ) -> None:
        super().__init__()
        self.config = config
        self.horizon, self.season = horizon, season
        self.register_buffer("levels", torch.tensor(levels, dtype=torch.float32))
        self.rnn = recurrent_layer(config, input_size)
        self.head = nn.Linear(config.hidden_size + horizon * future_size, horizon * len(levels))
        rnn.orthogonal_init_(self.rnn)
        if config.skip == "seasonal":
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, inputs: Tensor, future: Tensor) -> Tensor:
        """Scaled quantile forecasts (B, H, Q), sorted along Q (no crossing)."""
        outputs, _ = self.rnn(inputs)
        features = torch.cat([outputs[:, -1], future.flatten(1)], dim=1)
        forecast = self.head(features).view(inputs.shape[0], self.horizon, -1)
        if self.config.skip == "seasonal":
            base = seasonal_naive_scaled(inputs[..., 0], self.horizon, self.season)
            forecast = forecast + base.unsqueeze(-1)
        return forecast

    def loss(self, forecast: Tensor, target: Tensor) -> Tensor:
        """Pinball loss over the levels (``loss = "quantile"``), else MAE or MSE of the
        single output, on scaled values."""
        error = target.unsqueeze(-1) - forecast  # (B, H, Q)
        if self.config.loss == "mse":
            return error.pow(2).mean()
        if self.config.loss == "mae":
            return error.abs().mean()
        tau = self.levels.view(1, 1, -1)
        return torch.maximum(tau * error, (tau - 1) * error).mean()

    def training_step(self, batch: WindowBatch) -> Tensor:
        return self.loss(self(batch.inputs, batch.future), batch.target)

    def evaluate(self, batches: Iterable[WindowBatch]) -> dict[str, float]:
        total, count = 0.0, 0
        for batch in batches:
            size = batch.target.shape[0]
            total += float(self.loss(self(batch.inputs, batch.future), batch.target)) * size
            count += size
        return {"loss": total / max(count, 1)}
