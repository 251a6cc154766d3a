"""Forward+backward throughput of rnnlab's recurrent layers against torch.nn, in one run.

    python benchmarks/bench_recurrent.py [--batch 32] [--length 256] [--repeats 7]

A 2-layer layer of 128 units over batch × length inputs of 128 features; tokens/s =
batch·length / (forward + backward seconds), median of ``--repeats`` timed runs after warm-up.
Ratios are to torch.nn's own layer measured in the same process. Rows:

* ``torch.nn``                       the reference (oneDNN for LSTM, native kernel for GRU)
* ``rnnlab fused``                   rnnlab's layer on its fused path (same kernels)
* ``rnnlab step, recurrent_dropout`` the step path (hand-written backward), variational dropout
* ``rnnlab weight_dropout``          DropConnect on W_hh; stays on the fused path
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import rnnlab.nn as rnn

FEATURES = 128
HIDDEN = 128
LAYERS = 2


def tokens_per_second(layer: torch.nn.Module, x: torch.Tensor, repeats: int) -> float:
    layer.train()
    for _ in range(2):  # warm-up: allocator, oneDNN primitive caches
        out = layer(x)[0]
        out.sum().backward()
    times = []
    for _ in range(repeats):
        layer.zero_grad(set_to_none=True)
        start = time.perf_counter()
        out = layer(x)[0]
        out.sum().backward()
        times.append(time.perf_counter() - start)
    return x.shape[0] * x.shape[1] / statistics.median(times)


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
    print(f"{'layer':<6} {'variant':<38} {'tokens/s':>10} {'vs torch.nn':>12}")
    for kind in ("GRU", "LSTM"):
        baseline = None
        for name, layer in variants(kind):
            rate = tokens_per_second(layer, x, args.repeats)
            baseline = baseline or rate
            print(f"{kind:<6} {name:<38} {rate:>10,.0f} {rate / baseline:>11.2f}×")


if __name__ == "__main__":
    main()
