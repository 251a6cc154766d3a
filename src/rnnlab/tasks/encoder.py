"""Token ids → contextual vectors: embedding → recurrent layers, shared by every text task.

    ids (B, T) ──Embedding(pad masked)──► (B, T, E) ──dropout──► RNN/LSTM/GRU ──► (B, T, D·H)
                                                                         └──────► h_n (L·D, B, H)

Pooling turns the per-step outputs into one vector per text for classification:
``last`` — the final state of the last layer (both directions' final states when
bidirectional; each sequence's own last valid step), ``mean`` — the average over valid steps,
``max`` — the element-wise maximum over valid steps, ``concat`` — [last, max, mean] side by
side (ULMFiT's concat pooling, Howard & Ruder 2018), three times as wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

import rnnlab.nn as rnn
from rnnlab.config import ConfigSection, setting
from rnnlab.errors import ConfigError
from rnnlab.tasks.pretrained import NONE

__all__ = [
    "POOLINGS",
    "EncoderConfig",
    "RecurrentConfig",
    "TextEncoder",
    "init_orthogonal",
    "pool",
    "pooled_size",
    "recurrent_layer",
    "recurrent_layer_groups",
]

POOLINGS = ("last", "mean", "max", "concat")


@dataclass(frozen=True)
class RecurrentConfig(ConfigSection):
    """The ``[model]`` keys of the stacked recurrent layers, declared once for every task:
    cell, width, depth, direction and the four dropouts (:func:`recurrent_layer` reads them).

    Text tasks inherit them through :class:`EncoderConfig`; the series tasks (forecast,
    classify_series) inherit them directly. Each task changes only defaults, through
    :func:`rnnlab.config.override_defaults`, and refuses in its ``check`` what it cannot honour.
    """

    section: ClassVar[str] = "model"

    cell: str = setting(
        "gru",
        choices=("rnn", "lstm", "gru"),
        aliases=("rnn_type", "cell_type"),
        help="Recurrent cell: gru, lstm or rnn.",
    )
    hidden_size: int = setting(
        128,
        low=1,
        aliases=("hidden_dim", "hidden", "units"),
        help="Units of each recurrent layer (per direction).",
    )
    num_layers: int = setting(
        2, low=1, aliases=("layers", "n_layers"), help="Stacked recurrent layers."
    )
    bidirectional: bool = setting(
        False,
        aliases=("bidir",),
        help="Read the sequence in both directions.",
        flag="--bidirectional/--unidirectional",
    )
    # Element-wise dropout between recurrent layers (only with ≥ 2 layers).
    dropout: float = setting(
        0.0,
        low=0,
        below=1,
        aliases=("layer_dropout",),
        help="Dropout between stacked recurrent layers (needs --num-layers 2 or more).",
    )
    # Variational dropout on each layer's input (the embeddings' too): one mask per sequence.
    input_dropout: float = setting(
        0.2,
        low=0,
        below=1,
        help="Variational dropout on each recurrent layer's input (one mask per sequence).",
    )
    # Variational dropout on h_{t-1}; runs the step path.
    recurrent_dropout: float = setting(
        0.0,
        low=0,
        below=1,
        aliases=("variational_dropout",),
        help="Variational dropout on h_{t-1} (runs the step path, slower).",
    )
    # DropConnect on the recurrent weights W_hh (one mask per batch).
    weight_dropout: float = setting(
        0.2,
        low=0,
        below=1,
        aliases=("dropconnect",),
        help="DropConnect on the recurrent weights W_hh (one mask per batch).",
    )


@dataclass(frozen=True)
class EncoderConfig(RecurrentConfig):
    """The ``[model]`` keys every text task shares: embedding → stacked recurrent layers.

    Each task's model section inherits these fields (with its own defaults, through
    :func:`rnnlab.config.override_defaults`) and adds its head.
    """

    embedding_dim: int = setting(
        128,
        low=1,
        aliases=("embed_dim", "embedding_size", "emb_dim"),
        help="Size of the word vectors.",
    )
    # Pretrained vectors for the embedding layer: a file or directory rnnlab.embeddings.load
    # reads (rnnlab, word2vec text/binary, GloVe text), a packaged name ("glove-6b-50d"),
    # "skipgram" (trained first on the run's training texts), "auto" (skipgram when gensim
    # is installed) or "none"/"" (a random start). Vocabulary words found in the vectors
    # start from them, the rest randomly.
    embeddings: str = setting(
        "",
        aliases=("pretrained_embeddings", "vectors"),
        help=(
            "Where the embedding layer starts: auto, skipgram (trained first on the training "
            "texts), "
            "none (random), a word2vec/GloVe/rnnlab file or a packaged name (glove-6b-50d; set "
            "--embedding-dim to their size)."
        ),
    )
    freeze_embeddings: bool = setting(
        False,
        aliases=("freeze",),
        help="Keep pretrained embeddings fixed (--freeze) or train them (--fine-tune).",
        flag="--freeze/--fine-tune",
    )
    # "orthogonal": Glorot input weights, orthogonal recurrent weights, zero biases (LSTM
    # forget bias 1), embedding U(±0.05) — see rnnlab.nn.init; "torch": torch.nn's defaults.
    init: str = setting(
        "orthogonal",
        choices=("orthogonal", "torch"),
        aliases=("initializer",),
        help=(
            "Weight initialisation: orthogonal (orthogonal recurrent, Glorot input weights) or "
            "torch "
            "(torch.nn's defaults)."
        ),
    )

    def check(self) -> None:
        if self.freeze_embeddings and self.embeddings in ("", NONE):
            raise ConfigError(
                "model.freeze_embeddings (--freeze) needs pretrained vectors to keep fixed; "
                "add model.embeddings (--embeddings PATH or a packaged name such as "
                "glove-6b-50d)."
            )


_CELLS = {"gru": rnn.GRU, "lstm": rnn.LSTM, "rnn": rnn.RNN}


@torch.no_grad()
def init_orthogonal(embedding: nn.Embedding, recurrent: nn.Module, pad_id: int) -> None:
    """Small uniform embeddings (as Keras, U(±0.05), the padding row zero) and orthogonal
    recurrent weights (``rnnlab.nn.orthogonal_init_``): the ``init = "orthogonal"`` setting."""
    nn.init.uniform_(embedding.weight, -0.05, 0.05)
    embedding.weight[pad_id].zero_()
    rnn.orthogonal_init_(recurrent)


def recurrent_layer(config: Any, input_size: int) -> nn.Module:
    """The batch-first stacked recurrent layer a :class:`RecurrentConfig` describes (``cell``,
    ``hidden_size``, ``num_layers``, ``bidirectional`` and the four dropouts), shared by every
    task's model. Dropout between layers only exists with ≥ 2 layers."""
    if config.cell not in _CELLS:
        raise ConfigError(f"model.cell must be one of {sorted(_CELLS)}, got {config.cell!r}.")
    return _CELLS[config.cell](
        input_size,
        config.hidden_size,
        num_layers=config.num_layers,
        batch_first=True,
        dropout=config.dropout if config.num_layers > 1 else 0.0,
        bidirectional=config.bidirectional,
        input_dropout=config.input_dropout,
        recurrent_dropout=config.recurrent_dropout,
        weight_dropout=config.weight_dropout,
    )


class TextEncoder(nn.Module):
    """Embedding (``padding_idx`` = pad id, so padding stays zero) → recurrent encoder."""

    def __init__(self, vocab_size: int, config: Any, pad_id: int = 0) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=pad_id)
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        self.rnn = recurrent_layer(config, config.embedding_dim)
        if config.init == "orthogonal":
            init_orthogonal(self.embedding, self.rnn, pad_id)

    @property
    def output_size(self) -> int:
        return self.config.hidden_size * (2 if self.config.bidirectional else 1)

    def forward(
        self, ids: Tensor, lengths: Tensor, return_gates: bool = False
    ) -> tuple[Tensor, Tensor, list[dict[str, Tensor]] | None]:
        """Returns (outputs (B, T, D·H), h_n (L·D, B, H), gates or None)."""
        embedded = self.embedding_dropout(self.embedding(ids))  # (B, T, E)
        result = self.rnn(embedded, lengths=lengths, return_gates=return_gates)
        outputs, state = result[0], result[1]
        h_n = state[0] if isinstance(state, tuple) else state
        return outputs, h_n, (result[2] if return_gates else None)


def recurrent_layer_groups(rnn_module: nn.Module, num_layers: int) -> list[list[nn.Parameter]]:
    """The parameters of each layer of a stacked ``rnnlab.nn`` layer (both directions
    together), bottom layer first: the layer groups of discriminative fine-tuning."""
    groups: list[list[nn.Parameter]] = [[] for _ in range(num_layers)]
    for name, param in rnn_module.named_parameters():
        layer = name.removesuffix("_reverse").rsplit("_l", 1)[-1]
        groups[int(layer)].append(param)
    return groups


def pooled_size(width: int, method: str) -> int:
    """The width of :func:`pool`'s vector for per-step outputs of ``width`` = D·H."""
    return 3 * width if method == "concat" else width


def pool(outputs: Tensor, h_n: Tensor, lengths: Tensor, method: str, bidirectional: bool) -> Tensor:
    """One vector per sequence, (B, D·H) — (B, 3·D·H) for ``concat`` — by ``last``, ``mean``,
    ``max`` or all three over the valid steps."""
    if method == "concat":
        return torch.cat(
            [pool(outputs, h_n, lengths, m, bidirectional) for m in ("last", "max", "mean")],
            dim=-1,
        )
    if method == "last":
        if bidirectional:
            return torch.cat((h_n[-2], h_n[-1]), dim=-1)
        return h_n[-1]
    steps = outputs.shape[1]
    valid = torch.arange(steps, device=outputs.device).unsqueeze(0) < lengths.to(
        outputs.device
    ).unsqueeze(1)  # (B, T)
    valid = valid.unsqueeze(-1)
    if method == "mean":
        return (outputs * valid).sum(1) / valid.sum(1).clamp(min=1)
    if method == "max":
        return outputs.masked_fill(~valid, float("-inf")).amax(dim=1)
    raise ConfigError(f"model.pooling must be one of {', '.join(POOLINGS)}, got {method!r}.")
