"""Language-model runs end to end: corpus → vocabulary → truncated-BPTT training → exact
evaluation → the run directory.

    runs/NAME/
      config.toml        resolved LMRunConfig
      model.safetensors  the one-file model, task "lm" (rnnlab.load → LMPredictor), with its
                         vocabulary, tokenizer and level
      vocab.json         tokenizer settings and vocabulary, for other tools
      metrics.json       valid_/test_ perplexity, bits_per_token (and bpc at character level)
      history.jsonl      one line per epoch
      report.html        perplexity curves, samples at three temperatures, a surprisal plot
      analysis/          examples.json: the prompt and validation text the report uses
      evaluations/NAME/  metrics.json of every later ``rnnlab evaluate RUN --data X``
      checkpoints/       last.pt and best.pt, for --resume
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from rnnlab.errors import DataError
from rnnlab.fileio import atomic_write_json
from rnnlab.runs import MODEL_FILE, save_model_file, training_run
from rnnlab.tasks.base import Evaluation, TrainSummary, plan_evaluation, write_evaluation_metrics
from rnnlab.tasks.lm.analysis import (
    choose_examples,
    has_examples,
    save_examples,
    write_run_report,
)
from rnnlab.tasks.lm.config import LMRunConfig
from rnnlab.tasks.lm.data import (
    LMBatches,
    encode_stream,
    evaluation_batches,
    is_corpus_name,
    line_tokens,
    load_lm_splits,
    read_documents,
)
from rnnlab.tasks.lm.model import RecurrentLM
from rnnlab.tasks.lm.predictor import LMPredictor, splitter
from rnnlab.tasks.pretrained import init_embeddings, vectors_source
from rnnlab.text.tokenize import get_tokenizer, guess_tokenizer
from rnnlab.text.vocab import Vocab
from rnnlab.train import Trainer, seed_everything

__all__ = ["evaluate_lm_run", "scores", "train_lm"]

WHITESPACE = {"name": "whitespace", "pretokenized": True}


def _tokenizer(config: LMRunConfig, lines: list[str], pretokenized: bool) -> dict[str, Any]:
    """The word tokenizer's settings: the configured one, or for ``auto`` whitespace on
    pre-tokenised corpora and english / chinese by the script otherwise."""
    name = config.data.tokenizer
    if name == "auto":
        name = "whitespace" if pretokenized else guess_tokenizer(lines)
    return dict(WHITESPACE) if name == "whitespace" else get_tokenizer(name).to_dict()


def scores(metrics: dict[str, float], split: str, level: str) -> dict[str, float]:
    """``<split>_perplexity``, ``<split>_bits_per_token`` (``<split>_bpc`` at character
    level) and ``<split>_tokens`` from :meth:`RecurrentLM.evaluate`'s metrics."""
    out = {
        f"{split}_perplexity": round(metrics["perplexity"], 4),
        f"{split}_bits_per_token": round(metrics["bits_per_token"], 5),
        f"{split}_tokens": int(metrics["tokens"]),
    }
    if level == "char":
        out[f"{split}_bpc"] = out[f"{split}_bits_per_token"]
    return out


def train_lm(
    config: LMRunConfig, run_dir: str | Path, *, resume: bool = False, callbacks: tuple = ()
) -> TrainSummary:
    """Train on the training text, evaluate on validation and test, write the run."""
    splits = load_lm_splits(config.data, config.train.seed)
    level = config.data.level
    tokenizer = _tokenizer(config, splits.train, splits.pretokenized)
    split = splitter(tokenizer, level)
    train_tokens = line_tokens(splits.train, level, split)
    vocab = Vocab.build(
        train_tokens, max_size=config.data.max_vocab, min_count=config.data.min_count
    )
    train = encode_stream(train_tokens, vocab, f"{splits.origin} (train)")
    valid = encode_stream(
        line_tokens(splits.valid, level, split), vocab, f"{splits.origin} (valid)"
    )
    test = None
    if splits.test is not None:
        test = encode_stream(
            line_tokens(splits.test, level, split), vocab, f"{splits.origin} (test)"
        )
    batch_size, bptt = config.train.batch_size, config.data.bptt
    if train.numel() // batch_size <= bptt:
        raise DataError(
            f"{splits.origin}: {train.numel()} training tokens make columns of "
            f"{train.numel() // batch_size} for batch size {batch_size}, shorter than one BPTT "
            f"window ({bptt}); use more text, a smaller --batch-size or a shorter --bptt."
        )
    with training_run(run_dir, config, resume=resume) as run_dir:
        seed_everything(config.train.seed)
        model = RecurrentLM(len(vocab), config.model)
        if source := vectors_source(config.model.embeddings):
            init_embeddings(
                model.embedding, source, vocab,
                freeze=config.model.freeze_embeddings, seed=config.train.seed,
                corpus=train_tokens,
            )  # fmt: skip
        batches = LMBatches(
            train, batch_size, bptt, variable=config.data.variable_bptt, seed=config.train.seed
        )
        start = time.perf_counter()
        result = Trainer(config.train, run_dir=run_dir, callbacks=callbacks).fit(
            model, batches, evaluation_batches(valid, batch_size, bptt), resume=resume
        )
        seconds = time.perf_counter() - start
    model.cpu().eval()
    save_model_file(
        run_dir / MODEL_FILE,
        model.file_tensors(),
        task="lm",
        model_config=config.model,
        tokenizer=tokenizer,
        vocab=vocab.to_dict(),
        labels=[],
        preprocessing={"level": level, "bptt": bptt},
    )
    atomic_write_json(run_dir / "vocab.json", {"tokenizer": tokenizer, "level": level,
                                               "vocab": vocab.to_dict()})  # fmt: skip
    metrics: dict[str, Any] = {"data": splits.origin, "level": level, "vocab_size": len(vocab)}
    with torch.no_grad():
        metrics.update(scores(model.evaluate(evaluation_batches(valid, 10, bptt).batches()),
                              "valid", level))  # fmt: skip
        if test is not None:
            metrics.update(scores(model.evaluate(evaluation_batches(test, 10, bptt).batches()),
                                  "test", level))  # fmt: skip
    metrics["train_seconds"] = round(seconds, 2)
    metrics["best_epoch"] = result.best_epoch
    atomic_write_json(run_dir / "metrics.json", metrics)
    save_examples(run_dir, choose_examples(splits.valid, split))
    report = write_run_report(run_dir, LMPredictor(model, vocab, tokenizer, level))
    evaluated = "test" if test is not None else "valid"
    return TrainSummary(run_dir, metrics, evaluated, seconds, result.best_epoch, report=report)


def evaluate_lm_run(
    run_dir: str | Path,
    data: str | None = None,
    *,
    name: str | None = None,
    options: dict[str, Any] | None = None,
    write: bool = True,
) -> Evaluation:
    """Per-token NLL, perplexity and bits per token (bpc at character level) of a text file
    (one document per line, or per paragraph for a run trained with ``data.continuous``)
    or, by default, the run's own test text; every token scored."""
    run_dir = Path(run_dir)
    predictor = LMPredictor.from_file(run_dir)
    config, source, target = plan_evaluation(
        run_dir, LMRunConfig, data, name=name, options=options, write=write,
        kind="a text file", builtin=is_corpus_name,
    )  # fmt: skip
    if is_corpus_name(source):
        corpus = load_lm_splits(replace(config.data, data=source), config.train.seed)
        if corpus.test is None:
            raise DataError(
                f"{source} has no test text a language model may be scored on (a "
                "classification dataset lends only its training texts); pass a text file."
            )
        lines = corpus.test
    else:
        lines = read_documents(source, "--data", config.data.continuous)
    tokens = line_tokens(lines, predictor.level, predictor.tokens)
    stream = encode_stream(tokens, predictor.vocab, source)
    found = predictor.model.evaluate(evaluation_batches(stream, 10, config.data.bptt).batches())
    metrics: dict[str, Any] = {"split": "test", "data": source}
    metrics.update(
        {k.removeprefix("test_"): v for k, v in scores(found, "test", predictor.level).items()}
    )
    if target is None:
        return Evaluation(metrics, None)
    if target == run_dir:
        # The run's own record keeps its shape: valid_*, test_* and the training keys.
        record = run_dir / "metrics.json"
        previous = json.loads(record.read_text("utf-8")) if record.exists() else {}
        atomic_write_json(record, {**previous, **scores(found, "test", predictor.level)})
    else:
        write_evaluation_metrics(target, metrics, run_dir)
    if not has_examples(run_dir):  # a run trained before the report had examples
        save_examples(run_dir, choose_examples(lines, predictor.tokens))
    return Evaluation(metrics, target, write_run_report(run_dir, predictor))
