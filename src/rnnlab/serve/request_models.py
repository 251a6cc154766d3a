"""The request bodies of every task's server, built from the server's limits.

:func:`request_models` turns a :class:`~rnnlab.serve.config.ServeConfig` into pydantic models
whose constraints are the limits — most texts (or series) per request, most characters per
text or prompt, most integration steps — so that one declaration both checks each request and
shows the limits in the OpenAPI schema (``maxItems``, ``maxLength``, ``maximum``). Every body
is strict about types and refuses unknown keys; a text needs a visible character. The server
answers a failed check with one sentence (:func:`rnnlab.serve.app.validation_error`): 413 for
a size limit, 422 for the rest.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rnnlab.serve.config import ServeConfig
from rnnlab.serve.schemas import Label

__all__ = ["Body", "FutureBody", "RequestModels", "SeriesBody", "request_models"]

VISIBLE = r"\S"  # a text must hold at least one character that is not white space


class Body(BaseModel):
    """What every request body shares: an unknown key is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class SeriesBody(Body):
    """One series: its id, timestamps and values, oldest first; a run trained with
    covariates also needs their values at the same timestamps (``covariates``)."""

    unique_id: str = "series"
    ds: list[str]
    y: list[float | None]
    covariates: dict[str, list[float | None]] = Field(default_factory=dict)


class FutureBody(Body):
    """Future covariate values of the steps after a series' end (``unique_id`` empty: every
    series), as the rows of ``rnnlab predict --future FILE``."""

    unique_id: str = ""
    ds: list[str]
    values: dict[str, list[float]]


@dataclass(frozen=True)
class RequestModels:
    """The request body of each endpoint, with one server's limits."""

    predict: type[BaseModel]
    explain: type[BaseModel]
    score: type[BaseModel]
    generate: type[BaseModel]
    series: type[BaseModel]
    forecast: type[BaseModel]


def request_models(config: ServeConfig, explain_steps: int | None = None) -> RequestModels:
    """The request bodies of every endpoint, constrained by ``config``'s limits.

    Args:
        config: the server's limits (``max_texts``, ``max_text_chars``, ``max_explain_steps``).
        explain_steps: the integration steps /explain uses when a request names none: the
            default of the predictor's own ``explain``, so HTTP and Python agree.
    """
    Text = Annotated[
        StrictStr, StringConstraints(max_length=config.max_text_chars, pattern=VISIBLE)
    ]
    Texts = Annotated[list[Text], Field(min_length=1, max_length=config.max_texts)]

    class TextOrTexts(Body):
        """One text (``text``) or a list of texts (``texts``); exactly one of the two."""

        text: Text | None = Field(default=None, description="One text.")
        texts: Texts | None = Field(default=None, description="Several texts.")

        @model_validator(mode="after")
        def _exactly_one(self) -> "TextOrTexts":
            if (self.text is None) == (self.texts is None):
                raise PydanticCustomError("one_of", "Give exactly one of 'text' and 'texts'")
            return self

        def all_texts(self) -> list[str]:
            """The one text, or the texts, as a list."""
            return [self.text] if self.text is not None else list(self.texts or [])

    class PredictRequest(TextOrTexts):
        """One text (``text``) or a list of texts (``texts``) to label; exactly one of the two."""

        model_config = ConfigDict(
            json_schema_extra={
                "examples": [{"text": "A moving film."}, {"texts": ["Great.", "Dull."]}]
            }
        )

    class ScoreRequest(TextOrTexts):
        """One text (``text``) or a list of texts (``texts``) to score; exactly one of the two."""

        model_config = ConfigDict(json_schema_extra={"examples": [{"text": "sales rose"}]})

    class ExplainRequest(Body):
        """A text to explain: token attributions, and the gate trace when ``trace`` is true."""

        model_config = ConfigDict(json_schema_extra={"examples": [{"text": "A moving film."}]})
        text: Text
        method: Literal["ig", "occlusion"] = "ig"
        target: Label | None = Field(
            default=None, description="Label to explain; default: the predicted one."
        )
        steps: StrictInt = Field(
            default=explain_steps,  # type: ignore[arg-type]  # None only where /explain is 501
            ge=2,
            le=config.max_explain_steps,
            description="Integration steps (ig); the default is Predictor.explain's.",
        )
        trace: StrictBool = True

    class GenerateRequest(Body):
        """A prompt to continue and the sampling settings of ``LMPredictor.generate``."""

        model_config = ConfigDict(
            json_schema_extra={"examples": [{"prompt": "the company said", "seed": 1}]}
        )
        prompt: Annotated[StrictStr, StringConstraints(max_length=config.max_text_chars)] = ""
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

    class SeriesRequest(Body):
        """Series to label, each a list of finite numbers of the training length."""

        series: Annotated[list[list[FiniteFloat]], Field(min_length=1, max_length=config.max_texts)]

    class ForecastRequest(Body):
        """``horizon`` steps (default: the trained horizon) after each series' end."""

        horizon: int | None = Field(default=None, ge=1)
        series: (
            Annotated[list[SeriesBody], Field(min_length=1, max_length=config.max_texts)] | None
        ) = None
        future: list[FutureBody] | None = None

    return RequestModels(
        predict=PredictRequest,
        explain=ExplainRequest,
        score=ScoreRequest,
        generate=GenerateRequest,
        series=SeriesRequest,
        forecast=ForecastRequest,
    )
