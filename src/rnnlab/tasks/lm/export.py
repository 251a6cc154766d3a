r"""ONNX export of a language model: one window of token ids and the carried state in, the
next-token log-probabilities and the new state out.

The exported graph (``c``/``c_out`` only for an LSTM)::

    ids    int64    (batch, time)           token ids, every row the same length
    h      float32  (layers, batch, hidden)  the state carried from the previous window
    c      float32  (layers, batch, hidden)  (zeros to start a text)
        │
        ▼  embedding → LSTM/GRU layers → (projection) → softmax   (the trained weights)
    log_probs  float32  (batch, time, V)    log p(token t+1 = v | tokens ≤ t), over the
                                            whole vocabulary (the two-level softmax folded
                                            out, as at evaluation)
    h_out      float32  (layers, batch, hidden)
    c_out      float32  (layers, batch, hidden)

Generation is a loop in the consumer: feed the prompt (``<eos>`` first, as the model read
every line in training), pick a token from the last row of ``log_probs``, feed it back with
``h_out``/``c_out``. Scoring a long text is the same loop over windows; the carried state
makes the result independent of the window length, as :meth:`RecurrentLM.evaluate` is.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.tasks.graph import ExportGraph
from rnnlab.tasks.lm.data import EOS
from rnnlab.tasks.lm.model import RecurrentLM

__all__ = ["lm_graph", "lm_metadata"]


class _WithoutCarriedState(RecurrentLM):
    """A :class:`RecurrentLM` whose state dict leaves out the carried training state (a dict
    of tensors the tracer cannot hold): in the graph the state is an input, not a buffer."""

    get_extra_state = nn.Module.get_extra_state
    set_extra_state = nn.Module.set_extra_state


def _stateless(model: RecurrentLM) -> RecurrentLM:
    """A shallow copy of ``model`` (the same weights) as :class:`_WithoutCarriedState`."""
    clone = copy.copy(model)
    clone.__class__ = _WithoutCarriedState
    return clone


class _NextTokenLogProbs(nn.Module):
    """``(ids, h[, c]) → (log_probs, h_out[, c_out])`` of a :class:`RecurrentLM`."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, h: Tensor, c: Tensor | None = None) -> tuple[Tensor, ...]:
        state = h if c is None else (h, c)
        logits, state, _, _ = self.model(ids, state)
        log_probs = logits if self.model.adaptive is not None else logits.log_softmax(-1)
        return (log_probs, *state) if isinstance(state, tuple) else (log_probs, state)


def _is_lstm(model: nn.Module) -> bool:
    return model.config.cell == "lstm"


def lm_graph(model: RecurrentLM) -> ExportGraph:
    """The :class:`~rnnlab.tasks.graph.ExportGraph` of a :class:`RecurrentLM`."""
    config = model.config
    vocab_size = model.embedding.num_embeddings
    lstm = _is_lstm(model)
    state_axes = (None, "batch", None)

    def example(batch: int, steps: int, seed: int) -> tuple[Tensor, ...]:
        generator = torch.Generator().manual_seed(seed)
        ids = torch.randint(0, vocab_size, (batch, steps), generator=generator)
        shape = (config.num_layers, batch, config.hidden_size)
        states = [0.5 * torch.randn(shape, generator=generator) for _ in range(2 if lstm else 1)]
        return (ids, *states)

    inputs = {"ids": ("batch", "time"), "h": state_axes}
    outputs = {"log_probs": ("batch", "time", None), "h_out": state_axes}
    if lstm:
        inputs["c"] = state_axes
        outputs["c_out"] = state_axes
    return ExportGraph(_NextTokenLogProbs(_stateless(model)).eval(), inputs, outputs, example)


def lm_metadata(predictor: Any) -> dict[str, Any]:
    """Level, tokenizer, vocabulary, the state's shape and how to start and carry it."""
    config = predictor.model.config
    state = f"float32 ({config.num_layers}, batch, {config.hidden_size})"
    inputs = {
        "ids": "int64 (batch, time): token ids; start a text with the id of <eos>",
        "h": f"{state}: hidden state carried from the previous window; zeros to start",
    }
    outputs = {
        "log_probs": "float32 (batch, time, V): natural-log probabilities of the next token",
        "h_out": f"{state}: the hidden state to feed with the next window",
    }
    if _is_lstm(predictor.model):
        inputs["c"] = f"{state}: LSTM cell state carried like h; zeros to start"
        outputs["c_out"] = f"{state}: the cell state to feed with the next window"
    return {
        "labels": [],
        "level": predictor.level,
        "tokenizer": predictor.tokenizer,
        "vocab": predictor.vocab.to_dict(),
        "preprocessing": {
            "start_id": predictor.vocab.token_to_id(EOS),
            "unk_id": predictor.vocab.unk_id,
            "tokens": "characters" if predictor.level == "char" else "words",
            "line_end": f"every line ends with {EOS}, which also starts a text",
        },
        "inputs": inputs,
        "outputs": outputs,
    }
