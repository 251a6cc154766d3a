"""The settings of an rnnlab server: its limits, its micro-batching and its API key.

Micro-batching (``max_batch``, ``max_wait_ms``, ``batching``) helps only a server whose
requests can share one model call; the others run each request on its own and refuse these
settings rather than accept them without effect. So that a server can tell "asked for" from
"left at the default", the three are ``None`` unless given; :meth:`ServeConfig.limits` fills
in the defaults (:data:`BATCHING_DEFAULTS`) where they apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnnlab.errors import ConfigError

__all__ = ["BATCHING", "BATCHING_DEFAULTS", "ServeConfig"]

# The micro-batching settings, their defaults, and the flags of `rnnlab serve` that set them.
BATCHING_DEFAULTS: dict[str, Any] = {"max_batch": 64, "max_wait_ms": 5.0, "batching": True}
BATCHING: dict[str, str] = {
    "max_batch": "--max-batch",
    "max_wait_ms": "--max-wait-ms",
    "batching": "--batching/--no-batching",
}


@dataclass(frozen=True)
class ServeConfig:
    """Limits, batching and access of the server.

    Attributes:
        max_texts: most texts (or series) in one request.
        max_text_chars: most characters in one text or prompt (longer: 413).
        max_body_bytes: most bytes in one request body (larger: 413, before parsing).
        max_explain_steps: most integration steps one /explain request may ask for.
        max_batch: most texts the micro-batcher puts in one model call (None: 64).
        max_wait_ms: how long the first request of a batch waits for others (None: 5 ms).
        batching: False runs every request as its own model call (None: on).
        model_threads: torch intra-op threads of the model's worker thread (see
            :class:`~rnnlab.serve.batching.MicroBatcher` for why 1 is the default).
        api_key: when set, every endpoint but ``/health`` needs the header
            ``Authorization: Bearer <api_key>`` (see :mod:`rnnlab.serve.auth`).
        max_beam: the largest beam one /translate request may ask for (beam search costs
            about beam times the greedy search, so this bounds what one request can ask of
            the worker); a run whose own beam is larger serves at this beam by default.
    """

    max_texts: int = 64
    max_text_chars: int = 10_000
    max_body_bytes: int = 2_000_000
    max_explain_steps: int = 200
    max_batch: int | None = None
    max_wait_ms: float | None = None
    batching: bool | None = None
    model_threads: int = 1
    api_key: str | None = field(default=None, repr=False)  # never shown in logs or reprs
    max_beam: int = 8  # last: the fields before keep their positions

    def __post_init__(self) -> None:
        for name in (
            "max_texts",
            "max_text_chars",
            "max_body_bytes",
            "max_explain_steps",
            "max_beam",
            "max_batch",
            "model_threads",
        ):
            value = getattr(self, name)
            if value is None and name in BATCHING:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"serve: {name} must be a positive integer, got {value!r}.")
        if self.max_wait_ms is not None and not self.max_wait_ms >= 0:
            raise ConfigError(f"serve: max_wait_ms must be >= 0, got {self.max_wait_ms!r}.")
        if self.batching is False and (self.max_batch, self.max_wait_ms) != (None, None):
            raise ConfigError(
                "serve: max_batch and max_wait_ms have no effect with batching off; leave out "
                "--max-batch and --max-wait-ms, or turn batching on."
            )
        key = self.api_key
        if key is not None and (not key or not all(33 <= ord(c) <= 126 for c in key)):
            raise ConfigError(
                "serve: the API key must be one or more visible ASCII characters without spaces "
                "(an HTTP header carries it); choose another key."
            )

    def batching_asked(self) -> list[str]:
        """The micro-batching settings that were given (not left at ``None``)."""
        return [name for name in BATCHING if getattr(self, name) is not None]

    def limits(self, *names: str) -> dict[str, Any]:
        """The values of the settings ``names``, batching defaults filled in (what /model
        reports as the limits that hold)."""
        found = {}
        for name in names:
            value = getattr(self, name)
            found[name] = BATCHING_DEFAULTS[name] if value is None else value
        return found
