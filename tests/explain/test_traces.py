"""Gate traces against gates recomputed from torch.nn's layers, PCA against scikit-learn,
and the figures as files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from rnnlab.errors import ConfigError
from rnnlab.explain import GateTrace, pca_trajectory
from rnnlab.tasks.classify.config import ModelConfig
from rnnlab.tasks.classify.model import RecurrentClassifier
from rnnlab.tasks.classify.predictor import TextPredictor
from rnnlab.text.tokenize import get_tokenizer
from rnnlab.text.vocab import Vocab

TEXT = "An uneven film: a dull start, then a wonderful, moving second half."
TRACE_KEYS = {"text", "tokens", "cell", "gates", "hidden_norm"}


def small_predictor(cell: str, **model: object) -> TextPredictor:
    """An untrained classifier of the given cell over the words of TEXT (seeded)."""
    torch.manual_seed(0)
    tokenizer = get_tokenizer("english")
    vocab = Vocab.build([tokenizer(TEXT)], min_count=1)
    config = ModelConfig(
        **{
            "cell": cell,
            "embedding_dim": 8,
            "hidden_size": 6,
            "num_layers": 1,
            "bidirectional": False,
            **model,
        }
    )
    return TextPredictor(
        RecurrentClassifier(len(vocab), ["neg", "pos"], config), tokenizer, vocab, max_len=50
    )


def test_gru_trace_equals_the_gates_of_torch_gru(imdb_predictor):
    """z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz), r_t likewise, h_t from torch.nn.GRU."""
    trace = imdb_predictor.trace(TEXT)
    assert isinstance(trace, GateTrace)
    record = trace.to_dict()
    assert set(record) == TRACE_KEYS and record["cell"] == "gru"
    assert set(record["gates"]) == {"update", "reset"}
    model = imdb_predictor.model
    reference = torch.nn.GRU(32, 32, batch_first=True)
    reference.load_state_dict(model.encoder.rnn.state_dict())
    with torch.no_grad():
        x = model.encoder.embedding(torch.tensor([imdb_predictor.encode([TEXT])[0]]))
        h, _ = reference(x)
        h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
        gi = F.linear(x, reference.weight_ih_l0, reference.bias_ih_l0).chunk(3, -1)
        gh = F.linear(h_prev, reference.weight_hh_l0, reference.bias_hh_l0).chunk(3, -1)
        reset, update = torch.sigmoid(gi[0] + gh[0])[0], torch.sigmoid(gi[1] + gh[1])[0]
    np.testing.assert_allclose(trace.units["update"], update.numpy(), atol=1e-5)
    np.testing.assert_allclose(trace.units["reset"], reset.numpy(), atol=1e-5)
    np.testing.assert_allclose(record["gates"]["update"], update.mean(-1).numpy(), atol=1e-5)
    np.testing.assert_allclose(record["hidden_norm"], h[0].norm(dim=-1).numpy(), atol=1e-5)
    assert len(record["tokens"]) == len(record["hidden_norm"]) == len(record["gates"]["reset"])


def test_lstm_trace_equals_the_gates_of_torch_lstm():
    predictor = small_predictor("lstm")
    trace = predictor.trace(TEXT)
    assert trace.to_dict()["cell"] == "lstm"
    assert list(trace.gates) == ["input", "forget", "output"]
    reference = torch.nn.LSTM(8, 6, batch_first=True)
    reference.load_state_dict(predictor.model.encoder.rnn.state_dict())
    with torch.no_grad():
        x = predictor.model.encoder.embedding(torch.tensor([predictor.encode([TEXT])[0]]))
        h, _ = reference(x)
        h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
        gates = F.linear(x, reference.weight_ih_l0, reference.bias_ih_l0) + F.linear(
            h_prev, reference.weight_hh_l0, reference.bias_hh_l0
        )
        i, f, _, o = (torch.sigmoid(g)[0] for g in gates.chunk(4, -1))
    for name, expected in (("input", i), ("forget", f), ("output", o)):
        np.testing.assert_allclose(trace.units[name], expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(trace.hidden_norm, h[0].norm(dim=-1).numpy(), atol=1e-5)


def test_simple_rnn_has_no_gates_and_bidirectional_layers_join_both_directions():
    rnn = small_predictor("rnn").trace(TEXT).to_dict()
    assert rnn["cell"] == "rnn" and rnn["gates"] == {}
    assert len(rnn["hidden_norm"]) == len(rnn["tokens"])
    trace = small_predictor("gru", bidirectional=True, num_layers=2).trace(TEXT)
    steps = len(trace.tokens)
    assert trace.units["update"].shape == (steps, 12)  # both directions' 6 units, last layer
    assert trace.hidden.shape == (steps, 12)


def test_pca_trajectory_matches_scikit_learn(imdb_predictor):
    decomposition = pytest.importorskip("sklearn.decomposition")
    hidden = imdb_predictor.trace(TEXT).hidden
    points, ratios = pca_trajectory(hidden)
    reference = decomposition.PCA(n_components=2).fit(hidden)
    np.testing.assert_allclose(ratios, reference.explained_variance_ratio_, rtol=1e-6)
    expected = reference.transform(hidden)
    signs = np.sign((points * expected).sum(axis=0))  # components are defined up to sign
    np.testing.assert_allclose(points * signs, expected, atol=1e-8)


def test_figures_are_written_as_png_and_svg(imdb_predictor, tmp_path):
    pytest.importorskip("matplotlib", reason="plots need matplotlib")
    from rnnlab.explain.plots import gate_trace_figure, pca_figure, save_figure

    trace = imdb_predictor.trace(TEXT)
    png = save_figure(gate_trace_figure(trace), tmp_path / "trace.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = save_figure(pca_figure(trace), tmp_path / "pca.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and ">wonderful<" in svg
    with pytest.raises(ConfigError, match=r"must end in \.png or \.svg, got 'trace\.jpg'"):
        save_figure(gate_trace_figure(trace), tmp_path / "trace.jpg")
