"""Text classification: embedding → recurrent encoder → pooling → linear head, and (the
default, once the network has trained) its probabilities averaged with a lexical model's.

The model implements the Trainer's protocol (``training_step``, ``evaluate``); batches carry
padded token ids, lengths and label ids. Loss: cross-entropy (softmax over K ≥ 2 classes,
binary included, so that probabilities of every class are reported alike). The Trainer only
ever trains the network: the lexical model (:mod:`rnnlab.tasks.classify.lexical`) is fitted
afterwards and attached with :meth:`RecurrentClassifier.attach_lexical`; from then on
``forward`` returns ln p with p = w · p_recurrent + (1 − w) · p_lexical, whose softmax is p
itself, so every consumer of logits (predictors, ONNX, the server) gets the combination.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.evaluate.metrics import classification_metrics
from rnnlab.tasks.classify.config import ModelConfig
from rnnlab.tasks.classify.data import TextBatch
from rnnlab.tasks.classify.lexical import LexicalModel
from rnnlab.tasks.encoder import TextEncoder, pool, pooled_size, recurrent_layer_groups

__all__ = ["OUTPUTS", "RecurrentClassifier"]

# What ``forward`` returns once a lexical model is attached: the average (the default), or
# one member alone (for reporting each beside the combination).
OUTPUTS = ("combined", "recurrent", "lexical")


class RecurrentClassifier(nn.Module):
    """Embedding → RNN/LSTM/GRU → pooling over valid steps → linear head (logits over K)."""

    def __init__(
        self, vocab_size: int, labels: Sequence[str], config: ModelConfig, pad_id: int = 0
    ) -> None:
        super().__init__()
        self.config = config
        self.labels = list(labels)
        self.encoder = TextEncoder(vocab_size, config, pad_id)
        self.head_dropout = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(
            pooled_size(self.encoder.output_size, config.pooling), len(self.labels)
        )
        self.lexical: LexicalModel | None = None
        self.output = "combined"

    def attach_lexical(self, lexical: LexicalModel, recurrent_weight: float) -> None:
        """Average this network's probabilities with ``lexical``'s from now on, with weight
        ``recurrent_weight`` (w) on the network's; both are saved in the state dict."""
        device = self.head.weight.device
        self.lexical = lexical.to(device)
        self.register_buffer(
            "recurrent_weight", torch.tensor(float(recurrent_weight), device=device)
        )

    def recurrent_logits(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """The network's own logits (B, K): embedding → encoder → pooling → head."""
        outputs, h_n, _ = self.encoder(ids, lengths)
        pooled = pool(outputs, h_n, lengths, self.config.pooling, self.config.bidirectional)
        return self.head(self.head_dropout(pooled))

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Logits (B, K): the network's, or with a lexical model attached ln p of the average
        (or one member's, as ``output`` says)."""
        if self.lexical is None or self.output == "recurrent":
            return self.recurrent_logits(ids, lengths)
        lexical = self.lexical(ids, lengths)
        if self.output == "lexical":
            return lexical
        w = self.recurrent_weight
        recurrent = torch.softmax(self.recurrent_logits(ids, lengths), dim=-1)
        mixed = w * recurrent + (1 - w) * torch.softmax(lexical, dim=-1)
        return torch.log(mixed.clamp_min(1e-30))

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Embedding, each recurrent layer (bottom first), head: the groups of
        discriminative learning rates and gradual unfreezing (rnnlab.train.optim)."""
        recurrent = recurrent_layer_groups(self.encoder.rnn, self.config.num_layers)
        return [list(self.encoder.embedding.parameters()), *recurrent, list(self.head.parameters())]

    def training_step(self, batch: TextBatch) -> Tensor:
        logits = self.recurrent_logits(batch.ids, batch.lengths)
        return nn.functional.cross_entropy(logits, batch.labels)

    @torch.no_grad()
    def predict_batches(self, batches: Iterable[TextBatch]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (N, K) in the order of the batches' ``index``, and that index."""
        probs, order = [], []
        device = next(self.parameters()).device
        for batch in batches:
            batch = batch.to(device)
            probs.append(torch.softmax(self(batch.ids, batch.lengths), dim=-1).cpu())
            order.append(batch.index)
        if not probs:
            return np.zeros((0, len(self.labels)), dtype=np.float32), np.zeros(0, dtype=np.int64)
        return torch.cat(probs).numpy(), torch.cat(order).numpy()

    @torch.no_grad()
    def evaluate(self, batches: Iterable[TextBatch]) -> dict[str, float]:
        """Loss, accuracy, macro-F1 and per-class scores over labelled batches."""
        device = next(self.parameters()).device
        total_loss, count, y_true, y_pred = 0.0, 0, [], []
        for batch in batches:
            batch = batch.to(device)
            logits = self(batch.ids, batch.lengths)
            total_loss += float(nn.functional.cross_entropy(logits, batch.labels, reduction="sum"))
            count += len(batch.labels)
            y_true.append(batch.labels.cpu())
            y_pred.append(logits.argmax(-1).cpu())
        metrics = classification_metrics(
            torch.cat(y_true).numpy(), torch.cat(y_pred).numpy(), self.labels
        )
        metrics.pop("confusion_matrix")
        metrics["loss"] = total_loss / max(count, 1)
        return metrics  # type: ignore[return-value]
