"""Mixed-precision training: ``train.precision = "fp32" | "bf16" | "fp16"``.

Under ``"bf16"`` (or ``"fp16"``, CUDA only) the forward pass of every training step runs
inside ``torch.autocast``, whose operation lists decide the dtype of each operation:

* **bfloat16**: the matrix products — every ``nn.Linear`` (the output layers of classifiers,
  taggers, translators and forecasters), the input projection ``W_ih x`` of each recurrent
  layer over all steps (one large GEMM), attention's batched products, the character CNN of
  the tagger, and the language model's output layer (``linear_cross_entropy`` and the
  two-level softmax compute their logits in bfloat16);
* **float32**: everything whose precision matters more than its speed — the recurrences
  themselves (``h_t`` from ``h_{t−1}``: a GEMM of batch × hidden per step, which bfloat16
  does not speed up, on a state that accumulates rounding over hundreds of steps), the
  recurrent state carried across windows, softmax, log-softmax and the loss (autocast's
  float32 list; the LM's softmax is normalised in float32 from bfloat16 logits), the CRF.

The weights, their gradients and the optimizer's state stay float32 (autocast casts a
bfloat16 copy of a weight per operation; the gradient flows back to the float32 weight), so
checkpoints and model files are float32 and a run trained in bf16 predicts, evaluates and
exports as any other. Validation and test scores are computed in float32.

Where it is allowed. bfloat16 is fast on CPUs with AMX (``amx_bf16``: Intel Sapphire Rapids
and later) or AVX512-BF16 (``avx512_bf16``: Intel Cooper Lake, AMD Zen 4 and later); on other
CPUs PyTorch emulates it, more slowly than float32, so a run asking for it there is refused in
one sentence. On CUDA, bfloat16 needs a GPU that supports it (Ampere and later); float16 runs
with a gradient scaler (loss scaling) and is CUDA-only.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from rnnlab.errors import ConfigError

__all__ = ["PRECISIONS", "Precision", "cpu_bf16_flags", "resolve_precision"]

PRECISIONS = ("fp32", "bf16", "fp16")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
_CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.lru_cache(maxsize=1)
def cpu_bf16_flags() -> tuple[str, ...]:
    """The CPU features among ``amx_bf16`` and ``avx512_bf16`` that this processor has (read
    from ``/proc/cpuinfo``; empty where that file does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return tuple(flag for flag in _CPU_BF16_FLAGS if flag in flags)
    return ()


@dataclass(frozen=True)
class Precision:
    """How a training step runs: ``dtype`` is None for float32 (no autocast)."""

    name: str
    device_type: str
    dtype: torch.dtype | None

    @property
    def mixed(self) -> bool:
        return self.dtype is not None

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """The forward pass's context: ``torch.autocast`` in this precision, or nothing."""
        if self.dtype is None:
            yield
            return
        with torch.autocast(device_type=self.device_type, dtype=self.dtype):
            yield

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """A loss scaler for float16 (whose small gradients underflow without one)."""
        if self.name != "fp16":
            return None
        return torch.amp.GradScaler(self.device_type)


def resolve_precision(name: str, device: torch.device) -> Precision:
    """The precision ``name`` on ``device``, or ConfigError saying why it cannot run there."""
    if name not in PRECISIONS:
        raise ConfigError(
            f"Config key 'train.precision' must be one of {', '.join(PRECISIONS)}, got {name!r}."
        )
    if name == "fp32":
        return Precision(name, device.type, None)
    if device.type == "cuda":
        if name == "bf16" and not torch.cuda.is_bf16_supported():
            raise ConfigError(
                "Config key 'train.precision' is 'bf16' but this GPU does not support "
                "bfloat16; use --precision fp16 (with loss scaling) or fp32."
            )
        return Precision(name, "cuda", _DTYPES[name])
    if device.type != "cpu":
        raise ConfigError(
            f"Config key 'train.precision' is {name!r}, which rnnlab runs on CPUs and CUDA "
            f"GPUs only, not on {device.type}; use --precision fp32."
        )
    if name == "fp16":
        raise ConfigError(
            "Config key 'train.precision' is 'fp16', which needs a CUDA GPU; on the CPU use "
            "--precision bf16 (on processors with AMX or AVX512-BF16) or fp32."
        )
    if not cpu_bf16_flags():
        raise ConfigError(
            "Config key 'train.precision' is 'bf16' but this CPU has neither AMX nor "
            "AVX512-BF16, so bfloat16 would run slower than float32 here; use --precision fp32."
        )
    return Precision(name, "cpu", torch.bfloat16)
