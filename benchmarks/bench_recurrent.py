"""Forward+backward throughput of rnnlab's recurrent layers against torch.nn, in one run.

    python benchmarks/bench_recurrent.py [--batch 32] [--length 256] [--repeats 7]

A 2-layer layer of 128 units over batch × length inputs of 128 features; tokens/s =
batch·length / (forward + backward seconds), median of ``--repeats`` timed runs after warm-up.
Ratios are to torch.nn's own layer measured in the same process. Rows:

* ``torch.nn``                       the reference (oneDNN for LSTM, native kernel for GRU)
* ``rnnlab fused``                   rnnlab's layer on its fused path (same kernels)
* ``rnnlab step, recurrent_dropout`` the step path (hand-written backward), variational dropout
* ``rnnlab weight_dropout``          DropConnect on W_hh; stays on the fused path

and, for a batch of variable lengths (uniform in [length/2, length]; tokens/s counts valid
tokens only):

* ``torch.nn packed``                the reference: ``pack_padded_sequence(enforce_sorted=False)``
* ``rnnlab lengths (auto)``          ``lengths=`` given; on the CPU in training this runs the
                                     step path, which ``path="auto"`` picks for that reason
* ``rnnlab lengths, path=fused``     the same call forced onto PyTorch's packed kernels
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable

import torch

import rnnlab.nn as rnn

FEATURES = 128
HIDDEN = 128
LAYERS = 2


def tokens_per_second(
    layer: torch.nn.Module, run: Callable[[], torch.Tensor], tokens: int, repeats: int
) -> float:
    """``tokens`` / median seconds of ``run()`` (forward) plus the backward of its sum."""
    layer.train()
    for _ in range(2):  # warm-up: allocator, oneDNN primitive caches
        run().sum().backward()
    times = []
    for _ in range(repeats):
        layer.zero_grad(set_to_none=True)
        start = time.perf_counter()
        run().sum().backward()
        times.append(time.perf_counter() - start)
    return tokens / statistics.median(times)


def padded_rows(kind: str, x: torch.Tensor):
    """(name, layer, run) for full-length batches."""
    for name, layer in variants(kind):
        yield name, layer, functools.partial(lambda layer: layer(x)[0], layer)


def variable_length_rows(kind: str, x: torch.Tensor, lengths: torch.Tensor):
    """(name, layer, run) for a batch of variable lengths."""
    torch_cls = {"GRU": torch.nn.GRU, "LSTM": torch.nn.LSTM}[kind]
    ours_cls = {"GRU": rnn.GRU, "LSTM": rnn.LSTM}[kind]
    reference = torch_cls(FEATURES, HIDDEN, num_layers=LAYERS, batch_first=True)

    def packed() -> torch.Tensor:
        pack = torch.nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        return reference(pack)[0].data

    yield "torch.nn packed", reference, packed
    for name, path in (("rnnlab lengths (auto)", "auto"), ("rnnlab lengths, path=fused", "fused")):
        ours = ours_cls(FEATURES, HIDDEN, num_layers=LAYERS, batch_first=True, path=path)
        yield name, ours, functools.partial(lambda ours: ours(x, lengths=lengths)[0], ours)


def variants(kind: str):
    torch_cls = {"GRU": torch.nn.GRU, "LSTM": torch.nn.LSTM}[kind]
    ours_cls = {"GRU": rnn.GRU, "LSTM": rnn.LSTM}[kind]
    common = {"num_layers": LAYERS, "batch_first": True}
    return [
        ("torch.nn", torch_cls(FEATURES, HIDDEN, **common)),
        ("rnnlab fused", ours_cls(FEATURES, HIDDEN, **common)),
        (
            "rnnlab step, recurrent_dropout=0.25",
            ours_cls(FEATURES, HIDDEN, recurrent_dropout=0.25, **common),
        ),
        ("rnnlab weight_dropout=0.25", ours_cls(FEATURES, HIDDEN, weight_dropout=0.25, **common)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, args.length, FEATURES)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch} × "
        f"length {args.length}, {LAYERS} layers × {HIDDEN} units, forward+backward, "
        f"median of {args.repeats}"
    )
    lengths = torch.randint(args.length // 2, args.length + 1, (args.batch,))
    lengths[0] = args.length
    print(f"{'layer':<6} {'variant':<38} {'tokens/s':>10} {'vs torch.nn':>12}")
    for kind in ("GRU", "LSTM"):
        for rows, tokens in (
            (padded_rows(kind, x), args.batch * args.length),
            (variable_length_rows(kind, x, lengths), int(lengths.sum())),
        ):
            baseline = None
            for name, layer, run in rows:
                rate = tokens_per_second(layer, run, tokens, args.repeats)
                baseline = baseline or rate
                print(f"{kind:<6} {name:<38} {rate:>10,.0f} {rate / baseline:>11.2f}×")


if __name__ == "__main__":
    main()
