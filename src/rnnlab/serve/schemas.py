"""Request and response bodies of the HTTP API (pydantic models; they make the OpenAPI schema).

Types are strict: a number where text belongs is an error, not silently turned into text.
Limits that depend on the server's settings (how many texts, how long) are checked by the
routes, which know the settings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

__all__ = [
    "ErrorResponse",
    "ExplainRequest",
    "ExplainResponse",
    "GateTraceBody",
    "GenerateRequest",
    "GenerateResponse",
    "HealthResponse",
    "PredictRequest",
    "Prediction",
    "PredictionList",
    "ScoreRequest",
    "ScoreResponse",
    "ScoredText",
]

Label = StrictStr | StrictInt


class PredictRequest(BaseModel):
    """One text (``text``) or a list of texts (``texts``); exactly one of the two."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": "A moving film."}, {"texts": ["Great.", "Dull."]}]
        },
    )
    text: StrictStr | None = Field(default=None, description="One text to label.")
    texts: list[StrictStr] | None = Field(default=None, description="Several texts to label.")


class Prediction(BaseModel):
    """The most probable label and the probability of every label."""

    label: Label
    probabilities: dict[str, float]


class PredictionList(BaseModel):
    """One prediction per input text, in input order."""

    predictions: list[Prediction]


class ExplainRequest(BaseModel):
    """A text to explain: token attributions, and the gate trace when ``trace`` is true."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "A moving film."}]}
    )
    text: StrictStr
    method: Literal["ig", "occlusion"] = "ig"
    target: Label | None = Field(default=None, description="Label to explain; default: predicted.")
    steps: StrictInt = Field(default=32, ge=1, le=500, description="Integration steps (ig).")
    trace: StrictBool = True


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


class GenerateRequest(BaseModel):
    """A prompt to continue and the sampling settings of ``LMPredictor.generate``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"prompt": "the company said", "seed": 1}]},
    )
    prompt: StrictStr = ""
    max_new_tokens: StrictInt = Field(default=50, ge=1)
    temperature: float = Field(default=1.0, ge=0)
    top_k: StrictInt = Field(default=0, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    repetition_penalty: float = Field(default=1.0, gt=0)
    num_samples: StrictInt = Field(default=1, ge=1)
    stop: StrictStr | None = None
    seed: StrictInt = 0
    beam: StrictInt = Field(default=0, ge=0)
    context: StrictInt = Field(default=0, ge=0)


class GenerateResponse(BaseModel):
    """The continuations (the new text only), one per sample."""

    texts: list[str]


class ScoreRequest(BaseModel):
    """One text (``text``) or a list of texts (``texts``) to score; exactly one of the two."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "sales rose"}]}
    )
    text: StrictStr | None = None
    texts: list[StrictStr] | None = None


class ScoredText(BaseModel):
    """Per-token surprisal in bits, the total and the perplexity of one text."""

    tokens: list[str]
    surprisal_bits: list[float]
    total_bits: float
    perplexity: float | None


class ScoreResponse(BaseModel):
    scores: list[ScoredText]
