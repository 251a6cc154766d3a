"""Every bad-input message of rnnlab.nn, pinned."""

from __future__ import annotations

import pytest
import torch

import rnnlab.nn as rnn
from rnnlab.errors import ConfigError, RnnlabError, ShapeError, ValueRangeError


def test_errors_share_one_hierarchy_and_are_value_errors():
    for cls in (ShapeError, ValueRangeError, ConfigError):
        assert issubclass(cls, RnnlabError) and issubclass(cls, ValueError)


def test_wrong_input_rank():
    gru = rnn.GRU(4, 3, batch_first=True)
    with pytest.raises(
        ShapeError,
        match=r"GRU: input must be 3-D \(batch, time, features\) .* "
        r"got a 4-D tensor of shape \(1, 2, 3, 4\)",
    ):
        gru(torch.randn(1, 2, 3, 4))


def test_wrong_feature_size():
    lstm = rnn.LSTM(4, 3)
    with pytest.raises(ShapeError, match=r"LSTM: input.size\(-1\) must equal input_size=4, got 7"):
        lstm(torch.randn(5, 2, 7))


def test_lengths_longer_than_time_axis():
    gru = rnn.GRU(4, 3, batch_first=True)
    with pytest.raises(
        ValueRangeError, match=r"every length must lie in \[1, 5\] .* got 9 at batch index 1"
    ):
        gru(torch.randn(2, 5, 4), lengths=[5, 9])


def test_lengths_below_one():
    gru = rnn.GRU(4, 3, batch_first=True)
    with pytest.raises(ValueRangeError, match=r"got 0 at batch index 0"):
        gru(torch.randn(2, 5, 4), lengths=torch.tensor([0, 3]))


def test_lengths_count_differs_from_batch():
    rnn_layer = rnn.RNN(4, 3, batch_first=True)
    with pytest.raises(
        ShapeError,
        match=r"RNN: lengths must have one entry per sequence "
        r"\(batch size 2\), got 3",
    ):
        rnn_layer(torch.randn(2, 5, 4), lengths=[1, 2, 3])


def test_lengths_must_be_integers():
    gru = rnn.GRU(4, 3, batch_first=True)
    with pytest.raises(ShapeError, match=r"lengths must be a 1-D sequence of integers"):
        gru(torch.randn(2, 5, 4), lengths=torch.tensor([1.5, 2.0]))


def test_hx_of_wrong_shape():
    gru = rnn.GRU(4, 3, num_layers=2)
    with pytest.raises(
        ShapeError,
        match=r"GRU: hx must have shape \(num_layers \* num_directions, "
        r"batch, hidden_size\) = \(2, 2, 3\), got \(1, 2, 3\)",
    ):
        gru(torch.randn(5, 2, 4), torch.zeros(1, 2, 3))


def test_lstm_hx_must_be_a_pair():
    lstm = rnn.LSTM(4, 3)
    with pytest.raises(ShapeError, match=r"LSTM: hx must be a pair \(h_0, c_0\), got Tensor"):
        lstm(torch.randn(5, 2, 4), torch.zeros(1, 2, 3))
    with pytest.raises(ShapeError, match=r"hx\[1\] \(c_0\) must have shape"):
        lstm(torch.randn(5, 2, 4), (torch.zeros(1, 2, 3), torch.zeros(1, 3, 3)))


@pytest.mark.parametrize("arg", ["dropout", "input_dropout", "recurrent_dropout", "weight_dropout"])
@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5])
def test_dropout_outside_unit_interval(arg, value):
    with pytest.raises(
        ValueRangeError, match=rf"GRU: {arg} must be a probability in \[0, 1\), got {value}"
    ):
        rnn.GRU(4, 3, **{arg: value})


def test_bad_sizes_and_nonlinearity():
    with pytest.raises(
        ValueRangeError, match=r"LSTM: hidden_size must be a positive integer, got 0"
    ):
        rnn.LSTM(4, 0)
    with pytest.raises(
        ConfigError, match=r"RNN: nonlinearity must be 'tanh' or 'relu', got 'gelu'"
    ):
        rnn.RNN(4, 3, nonlinearity="gelu")


def test_cell_errors():
    cell = rnn.GRUCell(4, 3)
    with pytest.raises(
        ShapeError, match=r"GRUCell: input.size\(-1\) must equal input_size=4, got 5"
    ):
        cell(torch.randn(2, 5))
    with pytest.raises(ShapeError, match=r"GRUCell: hx must have shape \(2, 3\), got \(2, 4\)"):
        cell(torch.randn(2, 4), torch.zeros(2, 4))


def test_crf_errors():
    crf = rnn.CRF(3)
    with pytest.raises(
        ShapeError,
        match=r"CRF: emissions must have shape \(batch, time, "
        r"num_tags=3\), got \(2, 4, 5\)",
    ):
        crf.decode(torch.randn(2, 4, 5))
    with pytest.raises(ValueRangeError, match=r"mask\[:, 0\] must be True"):
        crf.decode(torch.randn(2, 4, 3), torch.tensor([[1, 1, 0, 0], [0, 1, 1, 1]]).bool())
    with pytest.raises(ShapeError, match=r"CRF: tags must have shape \(batch, time\) = \(2, 4\)"):
        crf(torch.randn(2, 4, 3), torch.zeros(2, 3, dtype=torch.long))
