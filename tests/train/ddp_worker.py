"""One training process of the data-parallel tests: ``python -m tests.train.ddp_worker``.

Arguments: rank, world size, rendezvous file, output file, and a JSON object of settings
(``batch_size``, ``epochs``, ``checkpoint_every``, ``run_dir``, ``resume``, ``stop_at``,
``nan_on_rank``). It
trains a bidirectional GRU classifier (rnnlab.nn, no dropout) on the first 96 real
rotten_tomatoes training sentences in input order, and rank 0 saves the final weights and
history to the output file. With ``stop_at`` every rank stops after that global step, as an
interrupted run would. With ``nan_on_rank`` that rank's loss is NaN from the second step on,
and the training error is written to the output file of each rank (``OUT.rank<r>.txt``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

from rnnlab.config import TrainConfig
from rnnlab.data import datasets
from rnnlab.errors import ValueRangeError
from rnnlab.tasks.classify.config import ModelConfig
from rnnlab.tasks.classify.data import ClassificationBatches
from rnnlab.tasks.classify.model import RecurrentClassifier
from rnnlab.text.tokenize import Tokenizer
from rnnlab.text.vocab import Vocab
from rnnlab.train import Callback, Trainer

EXAMPLES = 96


class Interrupted(Exception):
    """Raised on every rank after ``stop_at`` steps, like a kill after a checkpoint."""


class StopAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, info) -> None:
        if info.global_step == self.step:
            raise Interrupted


def main() -> None:
    rank, world, rendezvous, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    settings = json.loads(sys.argv[5])
    torch.set_num_threads(1)
    if world > 1:
        dist.init_process_group(
            "gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world,
            timeout=timedelta(seconds=60),
        )  # fmt: skip
    train = datasets.load("rotten_tomatoes", seed=0).train
    texts, labels = train.texts[:EXAMPLES], train.labels[:EXAMPLES]
    tokenizer = Tokenizer("english")
    tokens = tokenizer.tokenize_many(texts)
    vocab = Vocab.build(tokens, max_size=2000)
    names = sorted(set(labels))
    source = ClassificationBatches(
        [vocab.encode(t) for t in tokens],
        [names.index(label) for label in labels],
        settings["batch_size"],
        shuffle=False,
    )
    torch.manual_seed(0)
    model_config = ModelConfig(
        embedding_dim=16, hidden_size=16, input_dropout=0.0, weight_dropout=0.0
    )
    model = RecurrentClassifier(len(vocab), names, model_config)
    if settings.get("nan_on_rank") == rank:
        step = model.training_step
        calls = iter(range(10**6))
        model.training_step = lambda batch: step(batch) * (float("nan") if next(calls) else 1.0)
    config = TrainConfig(
        epochs=settings["epochs"], lr=1e-2, seed=0,
        checkpoint_every=settings.get("checkpoint_every", 0),
    )  # fmt: skip
    stop = settings.get("stop_at")
    trainer = Trainer(
        config, run_dir=settings.get("run_dir"), callbacks=[StopAt(stop)] if stop else []
    )
    result = None
    try:
        with contextlib.suppress(Interrupted):  # every rank stops after the same step
            result = trainer.fit(model, source, resume=settings.get("resume", False))
    except ValueRangeError as exc:  # raised by every rank at the same step
        with open(f"{out}.rank{rank}.txt", "w", encoding="utf-8") as handle:
            handle.write(str(exc))
    if world > 1:
        dist.barrier()  # no rank closes its connections while another still uses them
        dist.destroy_process_group()
    if result is None:
        return
    if rank == 0:
        history = [{k: v for k, v in r.items() if k not in ("seconds", "tokens_per_s")}
                   for r in result.history]  # fmt: skip
        torch.save({"weights": model.state_dict(), "history": history}, out)


if __name__ == "__main__":
    main()
    # The group is destroyed and the output written; leave without the interpreter's teardown,
    # in which gloo's transport threads were seen to abort the process ("terminate called
    # without an active exception", rc -6) after everything had finished — most often after
    # a step that raised before its backward pass.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
