"""Sequence-labelling runs end to end: tagged files → training → evaluation → the run directory.

runs/NAME/
  config.toml        resolved TagRunConfig
  vocab.json         word and character vocabularies, tags and tag schemes
  model.safetensors  the one-file model, task "tag" (rnnlab.load → TagPredictor)
  metrics.json       token accuracy, entity precision / recall / F1 overall and per type
  history.jsonl      one line per epoch
  report.html        per-type scores, confusions between tags, the worst sentences
  analysis/          per_tag.csv, confusions.csv, worst_sentences.csv (rnnlab.tasks.tag.analysis)
  evaluations/NAME/  every later ``rnnlab evaluate RUN --data X``: metrics.json, analysis/
  checkpoints/       last.pt and best.pt, for --resume

The files are written by the one run writer (:mod:`rnnlab.tasks.run_writer`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rnnlab.data import datasets
from rnnlab.runs import training_run
from rnnlab.tasks.base import Evaluation, TrainSummary, plan_evaluation
from rnnlab.tasks.run_writer import RunRecord, write_evaluation, write_run
from rnnlab.tasks.tag.analysis import analyse_tagging, write_run_report
from rnnlab.tasks.tag.config import TagRunConfig, resolve_monitor
from rnnlab.tasks.tag.data import load_tag_splits, model_scheme, read_tagged_file, tag_dataset
from rnnlab.tasks.tag.predictor import TagPredictor
from rnnlab.text.tagschemes import detect_scheme

__all__ = ["evaluate_tag_run", "train_tagger"]


def train_tagger(
    config: TagRunConfig, run_dir: str | Path, *, resume: bool = False, callbacks: tuple = ()
) -> TrainSummary:
    """Train, evaluate on the test split (or validation when there is none), write the run."""
    # Imported here: the estimator brings scikit-learn, which loading a model never needs.
    from rnnlab.tasks.tag.estimator import PRETOKENIZED, SequenceTagger

    splits = load_tag_splits(config.data, config.train.seed)
    scheme = model_scheme(config.data.scheme, detect_scheme(splits.train.tags), splits.origin)
    config = resolve_monitor(config, scheme)
    with training_run(run_dir, config, resume=resume) as run_dir:
        start = time.perf_counter()
        tagger = SequenceTagger(config).fit(
            splits.train,
            None,
            splits.valid,
            None,
            run_dir=run_dir,
            resume=resume,
            callbacks=callbacks,
        )
    seconds = time.perf_counter() - start
    encoder = tagger.encoder_
    evaluated = splits.test if splits.test is not None else splits.valid
    name = "test" if splits.test is not None else "valid"
    metrics: dict[str, Any] = {"split": name, "data": evaluated.source}
    metrics.update(tagger.predictor_.evaluate(evaluated))
    if tagger.embedding_coverage_ is not None:
        metrics["embedding_coverage"] = round(tagger.embedding_coverage_, 4)
    return write_run(
        run_dir,
        RunRecord(
            metrics,
            name,
            seconds,
            tagger.fit_result_.best_epoch,
            save_model=tagger.save,
            vocab={
                "tokenizer": PRETOKENIZED,
                "tags": encoder.tags,
                "scheme": tagger.model_.scheme,
                "data_scheme": tagger.data_scheme_,
                "vocab": encoder.words.to_dict(),
                "chars": encoder.chars.to_dict(),
            },
            analysis=analyse_tagging(tagger.predictor_, evaluated).write,
            report=write_run_report,
        ),
    )


def evaluate_tag_run(
    run_dir: str | Path,
    data: str | None = None,
    *,
    name: str | None = None,
    options: dict[str, Any] | None = None,
    write: bool = True,
) -> Evaluation:
    """Evaluate a trained tagger on tagged sentences: ``data`` (a file read as in training,
    ``options`` overriding its ``[data]`` reading keys, or a dataset name's test part), by
    default the run's own test data.

    The run's own test data refreshes ``RUN/metrics.json`` and ``RUN/analysis/``; other
    data is written to ``RUN/evaluations/<name>/`` (``metrics.json``, ``analysis/``;
    ``name``: ``--name``, else the file's stem or dataset name), leaving the run's own
    record as it was; the report is rendered again, listing it. ``data.scheme`` in
    ``options`` is the scheme of the file's tags (default: detected).
    """
    run_dir = Path(run_dir)
    predictor = TagPredictor.from_file(run_dir)
    config, source, target = plan_evaluation(
        run_dir, TagRunConfig, data, name=name, options=options, write=write,
        kind="a tagged file",
    )  # fmt: skip
    if datasets.is_dataset_name(source):
        sentences = tag_dataset(source, config.train.seed).test
    else:
        sentences = read_tagged_file(source, config.data)
    scheme = (options or {}).get("scheme")
    metrics: dict[str, Any] = {"split": "test", "data": source}
    metrics.update(predictor.evaluate(sentences, scheme=scheme))
    if target is None:
        return write_evaluation(run_dir, None, metrics)
    analysis = analyse_tagging(predictor, sentences, scheme=scheme)
    return write_evaluation(
        run_dir, target, metrics, analysis=analysis.write, report=write_run_report
    )
