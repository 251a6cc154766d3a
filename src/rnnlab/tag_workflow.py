"""Sequence-labelling runs end to end: tagged files → training → evaluation → the run directory.

The run directory is the classification one (see :mod:`rnnlab.workflow`)::

    runs/NAME/
      config.toml        resolved TagRunConfig
      vocab.json         word and character vocabularies, tags and tag schemes
      model.safetensors  the one-file model, task "tag" (rnnlab.load → TagPredictor)
      metrics.json       token accuracy, entity precision / recall / F1 overall and per type
      history.jsonl      one line per epoch
      checkpoints/       last.pt and best.pt, for --resume
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab import datasets
from rnnlab.data.conll import TaggedSentences, read_tagged
from rnnlab.data.splits import stratified_split
from rnnlab.errors import ConfigError, RnnlabError
from rnnlab.fileio import atomic_write_json, atomic_write_text
from rnnlab.runs import MODEL_FILE
from rnnlab.tasks.tag_config import TagDataConfig, TagRunConfig, resolve_monitor
from rnnlab.tasks.tagger import SequenceTagger, TagPredictor, model_scheme
from rnnlab.text.tagschemes import detect_scheme
from rnnlab.workflow import check_resume_config, evaluation_source, write_evaluation_metrics

__all__ = ["TagSplits", "TagTrainSummary", "evaluate_tag_run", "load_tag_splits", "train_tagger"]


@dataclass
class TagSplits:
    """Train, validation and (optional) test sentences, and where they came from."""

    train: TaggedSentences
    valid: TaggedSentences
    test: TaggedSentences | None
    origin: str


@dataclass
class TagTrainSummary:
    run_dir: Path
    metrics: dict[str, Any]
    evaluated_on: str
    seconds: float
    best_epoch: int


def _read(path: str, data: TagDataConfig) -> TaggedSentences:
    return read_tagged(
        path,
        data.format or None,
        token_col=data.token_col,
        tag_col=data.tag_col,
        conllu_tags=data.conllu_tags,
    )


def _tag_dataset(name: str, seed: int) -> Any:
    if datasets.task_of(name) != "tag":
        raise ConfigError(
            f"{name!r} is a text classification dataset, not tagged sentences; use it with: "
            f"rnnlab train classify --data {name}"
        )
    return datasets.load(name, seed=seed)


def load_tag_splits(data: TagDataConfig, seed: int) -> TagSplits:
    """A dataset name (``wnut16``) or tagged files; without ``--valid`` 10 % of the training
    sentences (seeded) are held out for validation."""
    if datasets.is_dataset_name(data.data):
        loaded = _tag_dataset(data.data, seed)
        return TagSplits(loaded.train, loaded.valid, loaded.test, f"dataset {data.data}")
    if not data.data:
        raise ConfigError(
            "No training data: pass --data FILE (CoNLL columns, word/tag lines or CoNLL-U) "
            f"or a tagged dataset name ({', '.join(datasets.names('tag'))})."
        )
    train = _read(data.data, data)
    if data.valid:
        valid = _read(data.valid, data)
    else:
        if len(train) < 2:
            raise ConfigError(
                f"{train.source} holds {len(train)} sentence; holding out validation data "
                "needs at least 2 — add sentences or pass --valid FILE."
            )
        n_valid = max(1, round(0.1 * len(train)))
        rest, held, _ = stratified_split(["all"] * len(train), n_valid, 0, seed=seed)
        train, valid = (
            train.subset(sorted(rest), "train part"),
            train.subset(sorted(held), "held-out validation part"),
        )
    test = _read(data.test, data) if data.test else None
    return TagSplits(train, valid, test, data.data)


def train_tagger(
    config: TagRunConfig, run_dir: str | Path, *, resume: bool = False, callbacks: tuple = ()
) -> TagTrainSummary:
    """Train, evaluate on the test split (or validation when there is none), write the run."""
    run_dir = Path(run_dir)
    splits = load_tag_splits(config.data, config.train.seed)
    scheme = model_scheme(config.data.scheme, detect_scheme(splits.train.tags), splits.origin)
    config = resolve_monitor(config, scheme)
    check_resume_config(run_dir, config, resume)
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.toml", config.to_toml())
    start = time.perf_counter()
    try:
        tagger = SequenceTagger(config).fit(
            splits.train,
            None,
            splits.valid,
            None,
            run_dir=run_dir,
            resume=resume,
            callbacks=callbacks,
        )
    except RnnlabError:
        if created:  # bad input found while building the model: leave no half-made run
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    tagger.save(run_dir / MODEL_FILE)
    encoder = tagger.encoder_
    atomic_write_json(
        run_dir / "vocab.json",
        {
            "tokenizer": {"name": "whitespace", "pretokenized": True},
            "tags": encoder.tags,
            "scheme": tagger.model_.scheme,
            "data_scheme": tagger.data_scheme_,
            "vocab": encoder.words.to_dict(),
            "chars": encoder.chars.to_dict(),
        },
    )
    evaluated = splits.test if splits.test is not None else splits.valid
    name = "test" if splits.test is not None else "valid"
    metrics: dict[str, Any] = {"split": name, "data": evaluated.source}
    metrics.update(tagger.predictor_.evaluate(evaluated))
    metrics["train_seconds"] = round(seconds, 2)
    metrics["best_epoch"] = tagger.fit_result_.best_epoch
    if tagger.embedding_coverage_ is not None:
        metrics["embedding_coverage"] = round(tagger.embedding_coverage_, 4)
    atomic_write_json(run_dir / "metrics.json", metrics)
    return TagTrainSummary(run_dir, metrics, name, seconds, tagger.fit_result_.best_epoch)


def evaluate_tag_run(
    run_dir: str | Path, data: str | None = None, *, write: bool = True
) -> dict[str, Any]:
    """Evaluate a trained tagger on tagged sentences (a file read as in training, or a
    dataset name's test part; default: the run's own test data). Writes ``metrics.json``
    when ``run_dir`` is a run directory."""
    run_dir = Path(run_dir)
    predictor = TagPredictor.from_file(run_dir)
    config_path = run_dir / "config.toml"
    config = TagRunConfig.from_toml(config_path) if config_path.exists() else TagRunConfig()
    source = evaluation_source(run_dir, config.data, data, "a tagged file")
    if datasets.is_dataset_name(source):
        table = _tag_dataset(source, config.train.seed).test
    else:
        table = _read(source, config.data)
    metrics: dict[str, Any] = {"split": "test", "data": source}
    metrics.update(predictor.evaluate(table))
    if write and run_dir.is_dir():
        write_evaluation_metrics(run_dir, metrics)
    return metrics
