"""Throughput of rnnlab's recurrent layers against torch.nn, in one run, on the CPU.

    python benchmarks/bench_recurrent.py [--batch 32] [--lengths 64 256] [--repeats 7]

A 2-layer layer of 128 units over batch × length inputs of 128 features. tokens/s =
batch·length / seconds (forward + backward of the output's sum, or forward alone under
``no_grad`` for the inference rows), median of ``--repeats`` timed runs after warm-up. The
rows of a group are timed in turns (one run of each, the order rotating from turn to turn),
so that drift of a noisy machine and warm-up order favour none of them. Each ratio is to the
group's torch.nn row. GFLOP/s counts the
multiply-adds of the gate GEMMs (2·(I + H)·G·H per token, layer and direction; ×3 for training:
forward, input gradient, weight gradient) and is shown as a fraction of the sgemm peak measured
at the start of the run (2048² float32 matmul, same thread count).

Rows (``auto`` = what rnnlab picks by itself; on a CPU with ``rnnlab[fast]`` that is the step
path's compiled loops, see ``rnnlab.nn.layers``):

* GRU/LSTM training, full length: torch.nn vs rnnlab auto, each of rnnlab's paths forced
  (``path="step"``, ``path="fused"``: auto must never be slower than either), rnnlab with
  ``recurrent_dropout``
  (torch has no equivalent, so the reference is torch without dropout), rnnlab with
  ``weight_dropout`` (DropConnect), bidirectional (vs torch bidirectional);
* variable lengths (uniform in [length/2, length], valid tokens counted): torch.nn on
  ``pack_padded_sequence(enforce_sorted=False)`` vs rnnlab ``lengths=``;
* inference (no grad): torch.nn vs rnnlab auto and each forced path.

Keras/TensorFlow is timed too when it is installed (optional: ``pip install keras tensorflow``).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from typing import NamedTuple

import torch

import rnnlab.nn as rnn
from rnnlab.nn.native_build import native_status

FEATURES = 128
HIDDEN = 128
LAYERS = 2
GATES = {"GRU": 3, "LSTM": 4}
TORCH = {"GRU": torch.nn.GRU, "LSTM": torch.nn.LSTM}
OURS = {"GRU": rnn.GRU, "LSTM": rnn.LSTM}


def interleaved_medians(runs: list[Callable[[], None]], repeats: int) -> list[float]:
    """Median seconds of each run, timed in ``repeats`` turns of one run each (the order
    rotating per turn) after two warm-up runs each."""
    for run in runs:
        for _ in range(2):
            run()
    times: list[list[float]] = [[] for _ in runs]
    for turn in range(repeats):
        for k in range(len(runs)):
            i = (k + turn) % len(runs)
            start = time.perf_counter()
            runs[i]()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def median_seconds(run: Callable[[], None], repeats: int) -> float:
    for _ in range(2):  # warm-up: allocator, oneDNN primitive caches
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sgemm_peak(threads: int) -> float:
    """GFLOP/s of a 2048² float32 matmul (median of 5), the yardstick for the GFLOP/s column."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    seconds = median_seconds(lambda: torch.mm(a, b), 5)
    return 2 * 2048**3 / seconds / 1e9


def flops_per_token(kind: str, bidirectional: bool, training: bool) -> float:
    directions = 2 if bidirectional else 1
    total = 0.0
    for layer in range(LAYERS):
        inputs = FEATURES if layer == 0 else HIDDEN * directions
        total += directions * 2 * (inputs + HIDDEN) * GATES[kind] * HIDDEN
    return total * (3 if training else 1)


def training_step(
    layer: torch.nn.Module, forward: Callable[[], torch.Tensor]
) -> Callable[[], None]:
    def run() -> None:
        layer.zero_grad(set_to_none=True)
        forward().sum().backward()

    return run


def inference_step(forward: Callable[[], torch.Tensor]) -> Callable[[], None]:
    def run() -> None:
        with torch.no_grad():
            forward()

    return run


class Row(NamedTuple):
    group: str
    variant: str
    run: Callable[[], None]
    tokens: int
    bidirectional: bool = False
    training: bool = True
    is_reference: bool = False


def rows(kind: str, x: torch.Tensor, lengths: torch.Tensor):
    """The benchmark's rows for one layer kind; each reference row precedes its contenders."""
    common = {"num_layers": LAYERS, "batch_first": True}
    full = x.shape[0] * x.shape[1]
    valid = int(lengths.sum())

    def trained(group: str, variant: str, layer: torch.nn.Module, **extra) -> Row:
        """A training row over the full-length input."""
        bidirectional = getattr(layer, "bidirectional", False)
        step = training_step(layer.train(), lambda: layer(x)[0])
        return Row(group, variant, step, full, bidirectional, **extra)

    reference = TORCH[kind](FEATURES, HIDDEN, **common)
    ours = OURS[kind](FEATURES, HIDDEN, **common)
    yield trained("train", "torch.nn", reference, is_reference=True)
    yield trained("train", "rnnlab auto", ours)
    for path in ("step", "fused"):
        yield trained("train", f"rnnlab path={path}", OURS[kind](FEATURES, HIDDEN, **common,
                                                                 path=path))  # fmt: skip
    for option in ("recurrent_dropout", "weight_dropout"):
        layer = OURS[kind](FEATURES, HIDDEN, **common, **{option: 0.25})
        yield trained("train", f"rnnlab {option}=0.25", layer)

    bi_ref = TORCH[kind](FEATURES, HIDDEN, bidirectional=True, **common)
    bi_ours = OURS[kind](FEATURES, HIDDEN, bidirectional=True, **common)
    yield trained("bidirectional", "torch.nn", bi_ref, is_reference=True)
    yield trained("bidirectional", "rnnlab auto", bi_ours)

    def packed() -> torch.Tensor:
        pack = torch.nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        return reference(pack)[0].data

    packed_step = training_step(reference, packed)
    yield Row("lengths", "torch.nn packed", packed_step, valid, is_reference=True)
    ours_lengths = training_step(ours, lambda: ours(x, lengths=lengths)[0])
    yield Row("lengths", "rnnlab auto", ours_lengths, valid)

    # Own copies in evaluation mode: every row is built before any is timed.
    inference = [("torch.nn", copy.deepcopy(reference).eval(), True),
                 ("rnnlab auto", copy.deepcopy(ours).eval(), False)]  # fmt: skip
    for path in ("step", "fused"):
        forced = OURS[kind](FEATURES, HIDDEN, **common, path=path)
        forced.load_state_dict(ours.state_dict())
        inference.append((f"rnnlab path={path}", forced.eval(), False))
    for variant, layer, is_ref in inference:
        run = inference_step(lambda layer=layer: layer(x)[0])
        yield Row("inference", variant, run, full, training=False, is_reference=is_ref)


def keras_gru_tokens_per_second(batch: int, length: int, repeats: int) -> float | None:
    """Keras 3 GRU(128) × 2 training step (TensorFlow backend) when installed, else None."""
    try:
        import keras
        import tensorflow as tf
    except ImportError:
        return None
    model = keras.Sequential(
        [keras.Input((length, FEATURES)), keras.layers.GRU(HIDDEN, return_sequences=True),
         keras.layers.GRU(HIDDEN, return_sequences=True)]
    )  # fmt: skip
    x = tf.random.normal((batch, length, FEATURES))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    return batch * length / median_seconds(step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kinds", nargs="+", default=["GRU", "LSTM"], choices=["GRU", "LSTM"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    peak = sgemm_peak(args.threads)
    status = native_status()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {LAYERS} layers × "
        f"{HIDDEN} units, batch {args.batch}, median of {args.repeats}; "
        f"sgemm peak {peak:.0f} GFLOP/s\nnative path: {status.reason}"
    )
    header = (
        f"{'T':>4} {'layer':<5} {'group':<13} {'variant':<30} {'tokens/s':>10} {'ratio':>7} "
        f"{'GFLOP/s':>8} {'peak':>5}"
    )
    for length in args.lengths:
        x = torch.randn(args.batch, length, FEATURES)
        lengths = torch.randint(length // 2, length + 1, (args.batch,))
        lengths[0] = length
        print(header)
        for kind in args.kinds:
            groups: dict[str, list[Row]] = {}
            for row in rows(kind, x, lengths):
                groups.setdefault(row.group, []).append(row)
            for group_rows in groups.values():
                seconds = interleaved_medians([r.run for r in group_rows], args.repeats)
                rates = [r.tokens / s for r, s in zip(group_rows, seconds, strict=True)]
                baseline = next(
                    rate for r, rate in zip(group_rows, rates, strict=True) if r.is_reference
                )
                for r, rate in zip(group_rows, rates, strict=True):
                    gflops = rate * flops_per_token(kind, r.bidirectional, r.training) / 1e9
                    print(
                        f"{length:>4} {kind:<5} {r.group:<13} {r.variant:<30} {rate:>10,.0f} "
                        f"{rate / baseline:>6.2f}× {gflops:>8.1f} {gflops / peak:>5.0%}",
                        flush=True,
                    )
        keras_rate = keras_gru_tokens_per_second(args.batch, length, args.repeats)
        if keras_rate is None:
            print(f"{length:>4} Keras GRU: not installed (pip install keras tensorflow)")
        else:
            print(f"{length:>4} Keras GRU train: {keras_rate:,.0f} tokens/s")


if __name__ == "__main__":
    main()
