"""Response bodies of the HTTP API (pydantic models; they make the OpenAPI schema).

The request bodies carry the server's limits, so they are built per server from its settings:
see :mod:`rnnlab.serve.request_models`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, StrictInt, StrictStr

__all__ = [
    "ErrorResponse",
    "ExplainResponse",
    "GateTraceBody",
    "GenerateResponse",
    "HealthResponse",
    "Label",
    "Prediction",
    "PredictionList",
    "ScoreResponse",
    "ScoredText",
]

Label = StrictStr | StrictInt


class Prediction(BaseModel):
    """The most probable label and the probability of every label."""

    label: Label
    probabilities: dict[str, float]


class PredictionList(BaseModel):
    """One prediction per input text, in input order."""

    predictions: list[Prediction]


class GateTraceBody(BaseModel):
    """Gate activations and hidden-state norm of the last recurrent layer, per token."""

    text: str
    tokens: list[str]
    cell: str
    gates: dict[str, list[float]]
    hidden_norm: list[float]


class ExplainResponse(BaseModel):
    """Token attributions towards ``target``, the prediction, and optionally the gate trace."""

    text: str
    tokens: list[str]
    attributions: list[float]
    label: Label
    target: Label
    probabilities: dict[str, float]
    method: str
    completeness_gap: float | None
    trace: GateTraceBody | None = None


class HealthResponse(BaseModel):
    """Liveness, and what the micro-batcher has done so far."""

    status: Literal["ok"]
    queued: int
    batches: int
    texts: int
    largest_batch: int


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body: one sentence saying what is wrong and how to fix it."""

    error: str
    detail: list[dict] | None = None


class GenerateResponse(BaseModel):
    """The continuations (the new text only), one per sample."""

    texts: list[str]


class ScoredText(BaseModel):
    """Per-token surprisal in bits, the total and the perplexity of one text."""

    tokens: list[str]
    surprisal_bits: list[float]
    total_bits: float
    perplexity: float | None


class ScoreResponse(BaseModel):
    scores: list[ScoredText]
