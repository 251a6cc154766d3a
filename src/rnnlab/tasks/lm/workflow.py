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

The files are written by the one run writer (:mod:`rnnlab.tasks.run_writer`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from rnnlab.errors import DataError
from rnnlab.runs import save_model_file, training_run
from rnnlab.tasks.base import Evaluation, TrainSummary, plan_evaluation
from rnnlab.tasks.lm.analysis import (
    choose_examples,
    examples_writer,
    has_examples,
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
from rnnlab.tasks.run_writer import RunRecord, write_evaluation, write_run
from rnnlab.text.tokenize import get_tokenizer, guess_tokenizer
from rnnlab.text.vocab import Vocab
from rnnlab.train import Trainer, seed_everything
from rnnlab.train.trainer import FitResult

__all__ = [
    "LMFit",
    "evaluate_lm_run",
    "fit_lm",
    "save_lm",
    "scores",
    "stream_scores",
    "train_lm",
]

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


@dataclass
class LMFit:
    """A language model trained on lines of text, and what it reads them with.

    Attributes:
        model: the trained model, on the CPU in eval mode, holding its best epoch's weights.
        vocab, tokenizer, level: its vocabulary, tokenizer settings and ``"word"``/``"char"``.
        tokens: the function that splits a line into the model's tokens.
        result: the Trainer's record (history, best epoch).
        seconds: seconds spent training.
    """

    model: RecurrentLM
    vocab: Vocab
    tokenizer: dict[str, Any]
    level: str
    tokens: Callable[[str], list[str]]
    result: FitResult
    seconds: float

    @property
    def predictor(self) -> LMPredictor:
        """The trained model ready to use."""
        return LMPredictor(self.model, self.vocab, self.tokenizer, self.level)

    def stream(self, lines: Sequence[str], source: str) -> torch.Tensor:
        """``lines`` as one stream of token ids of the model's vocabulary."""
        return encode_stream(line_tokens(lines, self.level, self.tokens), self.vocab, source)


def fit_lm(
    config: LMRunConfig,
    train_lines: Sequence[str],
    valid_lines: Sequence[str] | None = None,
    *,
    pretokenized: bool = False,
    origin: str = "training text",
    run_dir: Path | None = None,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
) -> LMFit:
    """Build the tokenizer and vocabulary from ``train_lines`` and train a language model on
    them by truncated BPTT, following the validation perplexity of ``valid_lines`` (without
    them, ``config.train`` must follow ``train_loss``); shared by :func:`train_lm` and the
    estimator. ``origin`` names the text in messages; ``run_dir`` takes checkpoints and
    ``history.jsonl``."""
    level = config.data.level
    tokenizer = _tokenizer(config, list(train_lines), pretokenized)
    split = splitter(tokenizer, level)
    train_tokens = line_tokens(train_lines, level, split)
    vocab = Vocab.build(
        train_tokens, max_size=config.data.max_vocab, min_count=config.data.min_count
    )
    train = encode_stream(train_tokens, vocab, f"{origin} (train)")
    batch_size, bptt = config.train.batch_size, config.data.bptt
    if train.numel() // batch_size <= bptt:
        raise DataError(
            f"{origin}: {train.numel()} training tokens make columns of "
            f"{train.numel() // batch_size} for batch size {batch_size}, shorter than one BPTT "
            f"window ({bptt}); use more text, a smaller --batch-size or a shorter --bptt."
        )
    valid = None
    if valid_lines is not None:
        stream = encode_stream(line_tokens(valid_lines, level, split), vocab, f"{origin} (valid)")
        valid = evaluation_batches(stream, batch_size, bptt)
    seed_everything(config.train.seed)
    model = RecurrentLM(len(vocab), config.model)
    if source := vectors_source(config.model.embeddings):
        init_embeddings(
            model.embedding, source, vocab,
            freeze=config.model.freeze_embeddings, seed=config.train.seed, corpus=train_tokens,
        )  # fmt: skip
    batches = LMBatches(
        train, batch_size, bptt, variable=config.data.variable_bptt, seed=config.train.seed
    )
    start = time.perf_counter()
    result = Trainer(config.train, run_dir=run_dir, callbacks=callbacks).fit(
        model, batches, valid, resume=resume
    )
    seconds = time.perf_counter() - start
    model.cpu().eval()
    return LMFit(model, vocab, tokenizer, level, split, result, seconds)


def stream_scores(model: RecurrentLM, stream: torch.Tensor, bptt: int) -> dict[str, float]:
    """:meth:`RecurrentLM.evaluate` of a token stream: every token scored, in batches of 10
    columns of ``bptt`` steps (the numbers do not depend on them)."""
    with torch.no_grad():
        return model.evaluate(evaluation_batches(stream, 10, bptt).batches())


def save_lm(path: str | Path, fitted: LMFit, config: LMRunConfig) -> Path:
    """Write a trained language model as one safetensors file (task ``"lm"``)."""
    return save_model_file(
        path, fitted.model.file_tensors(), task="lm", model_config=config.model,
        tokenizer=fitted.tokenizer, vocab=fitted.vocab.to_dict(), labels=[],
        preprocessing={"level": fitted.level, "bptt": config.data.bptt},
    )  # fmt: skip


def train_lm(
    config: LMRunConfig, run_dir: str | Path, *, resume: bool = False, callbacks: tuple = ()
) -> TrainSummary:
    """Train on the training text, evaluate on validation and test, write the run."""
    splits = load_lm_splits(config.data, config.train.seed)
    with training_run(run_dir, config, resume=resume) as run_dir:
        fitted = fit_lm(
            config, splits.train, splits.valid, pretokenized=splits.pretokenized,
            origin=splits.origin, run_dir=run_dir, resume=resume, callbacks=callbacks,
        )  # fmt: skip
    level, bptt = fitted.level, config.data.bptt
    metrics: dict[str, Any] = {"data": splits.origin, "level": level,
                               "vocab_size": len(fitted.vocab)}  # fmt: skip
    valid = fitted.stream(splits.valid, f"{splits.origin} (valid)")
    metrics.update(scores(stream_scores(fitted.model, valid, bptt), "valid", level))
    if splits.test is not None:
        test = fitted.stream(splits.test, f"{splits.origin} (test)")
        metrics.update(scores(stream_scores(fitted.model, test, bptt), "test", level))
    predictor = fitted.predictor
    return write_run(
        run_dir,
        RunRecord(
            metrics,
            "test" if splits.test is not None else "valid",
            fitted.seconds,
            fitted.result.best_epoch,
            save_model=lambda path: save_lm(path, fitted, config),
            vocab={"tokenizer": fitted.tokenizer, "level": level, "vocab": fitted.vocab.to_dict()},
            analysis=examples_writer(choose_examples(splits.valid, fitted.tokens)),
            report=lambda run: write_run_report(run, predictor),
        ),
    )


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
    found = stream_scores(predictor.model, stream, config.data.bptt)
    own = scores(found, "test", predictor.level)
    metrics: dict[str, Any] = {"split": "test", "data": source}
    metrics.update({k.removeprefix("test_"): v for k, v in own.items()})
    analysis = None
    if target == run_dir and not has_examples(run_dir):  # a run trained before the report
        analysis = examples_writer(choose_examples(lines, predictor.tokens))
    # The run's own record keeps its shape: valid_*, test_* and the training keys.
    return write_evaluation(
        run_dir, target, metrics, analysis=analysis, own_record=own,
        report=lambda run: write_run_report(run, predictor),
    )  # fmt: skip
