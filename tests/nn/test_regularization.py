"""The AWD-LSTM regularisers against their definitions: embedding dropout drops whole word
types, locked dropout one mask per sequence for all steps, AR and TAR the published means."""

from __future__ import annotations

import pytest
import torch

from rnnlab.nn.regularization import (
    activation_penalty,
    embedding_dropout,
    locked_dropout,
    temporal_activation_penalty,
)


def test_embedding_dropout_zeroes_whole_rows_and_rescales_the_rest():
    torch.manual_seed(0)
    weight = torch.randn(1000, 8)
    dropped = embedding_dropout(weight, 0.3, training=True)
    zero_rows = (dropped == 0).all(dim=1)
    kept = ~zero_rows
    assert 0.25 < zero_rows.float().mean().item() < 0.35  # about p of the types
    torch.testing.assert_close(dropped[kept], weight[kept] / 0.7)
    ids = torch.tensor([[3, 3, 3]])  # every occurrence of a word shares its fate
    looked_up = torch.nn.functional.embedding(ids, dropped)[0]
    assert torch.equal(looked_up[0], looked_up[1]) and torch.equal(looked_up[1], looked_up[2])
    assert embedding_dropout(weight, 0.3, training=False) is weight


@pytest.mark.parametrize("batch_first", [True, False])
def test_locked_dropout_uses_one_mask_per_sequence_for_every_step(batch_first):
    torch.manual_seed(0)
    x = torch.ones(4, 9, 16) if batch_first else torch.ones(9, 4, 16)
    y = locked_dropout(x, 0.5, training=True, batch_first=batch_first)
    per_step = y if batch_first else y.transpose(0, 1)  # (B, T, F)
    assert torch.equal(per_step, per_step[:, :1].expand_as(per_step))  # same mask over time
    assert set(per_step.unique().tolist()) <= {0.0, 2.0}
    assert not torch.equal(per_step[0, 0], per_step[1, 0])  # but another per sequence
    assert locked_dropout(x, 0.5, training=False) is x


def test_ar_and_tar_are_the_published_means_over_valid_steps():
    torch.manual_seed(0)
    h = torch.randn(3, 5, 4)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    ar = float(sum(h[b, t].pow(2).sum() for b in range(3) for t in range(5) if mask[b, t]))
    assert activation_penalty(h, 2.0, mask).item() == pytest.approx(2.0 * ar / (9 * 4), rel=1e-6)
    pairs = [(b, t) for b in range(3) for t in range(1, 5) if mask[b, t] and mask[b, t - 1]]
    tar = float(sum((h[b, t] - h[b, t - 1]).pow(2).sum() for b, t in pairs))
    got = temporal_activation_penalty(h, 1.5, mask).item()
    assert got == pytest.approx(1.5 * tar / (len(pairs) * 4), rel=1e-6)
    assert activation_penalty(h, 0.0).item() == 0.0
    assert temporal_activation_penalty(h[:, :1], 1.0).item() == 0.0  # no pair of steps
