"""Gate and hidden-state traces: what the recurrent layer does with its memory, token by token.

For a GRU the update gate z_t decides how much of the old state survives,

    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1},

so z_t near 1 means the unit *keeps* its memory at token t and z_t near 0 means the token
*overwrites* it with the candidate n_t; the reset gate r_t decides how much of h_{t−1} the
candidate may read. For an LSTM the forget gate f_t keeps (near 1) or erases (near 0) the
cell, and the input gate i_t writes the new candidate into it: c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t.

The trace records the gates of the last recurrent layer (both directions' units side by
side when bidirectional) from the layer's ``return_gates``, their mean over units per token,
the norm ‖h_t‖ of the layer's output, and the outputs themselves for a PCA trajectory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from rnnlab.explain.attributions import kept_tokens

__all__ = ["GATE_NAMES", "GateTrace", "pca_trajectory", "trace_text"]

# Names of the recorded gates, per cell: layer's key → public name.
GATE_NAMES: dict[str, dict[str, str]] = {
    "gru": {"z": "update", "r": "reset"},
    "lstm": {"i": "input", "f": "forget", "o": "output"},
    "rnn": {},
}


@dataclass
class GateTrace:
    """Gates and hidden state of the last recurrent layer over one text's tokens.

    Attributes:
        text, tokens: the input and the tokens the model saw (after truncation).
        cell: ``"gru"``, ``"lstm"`` or ``"rnn"``.
        gates: {name: per-token mean over units}; see :data:`GATE_NAMES`.
        hidden_norm: ‖h_t‖₂ of the last layer's output at each token.
        units: {name: (T, units) array} — the per-unit gate values behind ``gates``.
        hidden: (T, D·H) last-layer outputs, for :func:`pca_trajectory`.
    """

    text: str
    tokens: list[str]
    cell: str
    gates: dict[str, list[float]]
    hidden_norm: list[float]
    units: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    hidden: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: text, tokens, cell, gates, hidden_norm (no per-unit arrays)."""
        return {
            "text": self.text,
            "tokens": list(self.tokens),
            "cell": self.cell,
            "gates": {name: list(values) for name, values in self.gates.items()},
            "hidden_norm": list(self.hidden_norm),
        }


def pca_trajectory(hidden: np.ndarray, components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Project hidden states (T, D) on their first principal components.

    PCA by the SVD of the centred matrix X − x̄ = U S Vᵀ: the projection is (X − x̄) V_k and the
    explained-variance ratio of component j is S_j² / Σ S². Returns ((T, k) points, (k,)
    ratios); k is at most min(T, D), so very short texts get fewer components (zero-padded).
    """
    centred = hidden - hidden.mean(axis=0, keepdims=True)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(components, vt.shape[0])
    points = np.zeros((hidden.shape[0], components))
    points[:, :k] = centred @ vt[:k].T
    total = float((singular**2).sum())
    ratios = np.zeros(components)
    if total > 0:
        ratios[:k] = singular[:k] ** 2 / total
    return points, ratios


@torch.no_grad()
def trace_text(predictor: Any, text: str) -> GateTrace:
    """Run one text through ``predictor``'s model with gates recorded (the step path)."""
    model = predictor.model
    cell = model.config.cell
    ids = predictor.encode([text])[0]
    tokens = kept_tokens(predictor.tokenizer(text), predictor.max_len, predictor.truncate)
    x = torch.tensor([ids], dtype=torch.long, device=predictor.device)
    outputs, _, layer_gates = model.encoder(x, torch.tensor([len(ids)]), return_gates=True)
    directions = 2 if model.config.bidirectional else 1
    last = layer_gates[-directions:]  # the last layer's directions, in order
    units: dict[str, np.ndarray] = {}
    for key, name in GATE_NAMES[cell].items():
        per_direction = [g[key][0].cpu().double().numpy() for g in last]  # (T, H) each
        units[name] = np.concatenate(per_direction, axis=-1)  # (T, D·H)
    hidden = outputs[0].cpu().double().numpy()  # (T, D·H)
    return GateTrace(
        text=text,
        tokens=tokens,
        cell=cell,
        gates={name: values.mean(axis=-1).tolist() for name, values in units.items()},
        hidden_norm=np.linalg.norm(hidden, axis=-1).tolist(),
        units=units,
        hidden=hidden,
    )
