"""Translation runs end to end: pairs → training → sacreBLEU evaluation → the run directory.

runs/NAME/
  config.toml        resolved TranslateRunConfig
  model.safetensors  the one-file model, task "translate" (rnnlab.load → TranslatePredictor)
  vocab.json         both sides' tokenizers and vocabularies, for other tools
  metrics.json       BLEU, chrF (cased, detokenised, with sacreBLEU's signatures and 95 %
                     bootstrap intervals), lowercased BLEU, the copy-the-source baseline
  history.jsonl      one line per epoch (validation loss and perplexity)
  analysis/          translations.csv: every test sentence with its translation and
                     sentence BLEU / chrF, worst first; examples.json: the test sentences
                     whose attention the report shows
  report.html        scores, learning curves, worst translations, attention heat maps
                     (:mod:`rnnlab.explain.translate_report`), rewritten by every evaluation
  evaluations/NAME/  the same for every later ``rnnlab evaluate RUN --data X``
  checkpoints/       last.pt and best.pt, for --resume
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rnnlab.explain.page import EXAMPLES_FILE, optional_report
from rnnlab.explain.translate_report import write_translate_report
from rnnlab.fileio import atomic_write_json, atomic_write_text, csv_text, make_dir
from rnnlab.runs import MODEL_FILE, training_run
from rnnlab.tasks.base import (
    Evaluation,
    TrainSummary,
    plan_evaluation,
    write_evaluation_metrics,
)
from rnnlab.tasks.translate.config import TranslateRunConfig
from rnnlab.tasks.translate.data import (
    ParallelText,
    is_corpus_name,
    load_translate_splits,
    read_multi30k,
    read_pairs,
)
from rnnlab.tasks.translate.predictor import TranslatePredictor
from rnnlab.tasks.translate.scoring import paired_bootstrap

__all__ = [
    "choose_examples",
    "compare_runs",
    "evaluate_translate_run",
    "train_translator",
    "write_analysis",
]

# What a refreshed test evaluation keeps from the training run's own record.
_TRAINING_KEYS = ("train_pairs", "dropped_long_pairs", "valid_perplexity")
REPORT_EXAMPLES = 3  # test sentences whose attention the report shows


def write_analysis(directory: Path, rows: list[dict[str, Any]]) -> Path:
    """``analysis/translations.csv``: one row per sentence, worst sentence BLEU first."""
    path = make_dir(directory / "analysis") / "translations.csv"
    atomic_write_text(path, csv_text(rows))
    return path


def choose_examples(
    pairs: ParallelText, predictor: TranslatePredictor, n: int = REPORT_EXAMPLES
) -> list[list[str]]:
    """The first ``n`` pairs whose source has 3 to 20 tokens (a heat map stays readable),
    topped up with the first others: [[source, reference], …] for the report."""
    fits = [i for i, s in enumerate(pairs.sources) if 3 <= len(predictor.source_tokenizer(s)) <= 20]
    chosen = (fits + [i for i in range(len(pairs)) if i not in set(fits[:n])])[:n]
    return [[pairs.sources[i], pairs.targets[i]] for i in chosen]


def train_translator(
    config: TranslateRunConfig, run_dir: str | Path, *, resume: bool = False, callbacks: tuple = ()
) -> TrainSummary:
    """Train on the training pairs, score the test pairs (validation when there are none)
    with the run's decoding settings, and write the run."""
    # Imported here: the estimator brings scikit-learn, which loading a model never needs.
    from rnnlab.tasks.translate.estimator import Translator

    splits = load_translate_splits(config.data, config.train.seed)
    with training_run(run_dir, config, resume=resume) as run_dir:
        start = time.perf_counter()
        translator = Translator(config).fit(
            splits.train,
            None,
            splits.valid,
            None,
            run_dir=run_dir,
            resume=resume,
            callbacks=callbacks,
        )
        seconds = time.perf_counter() - start
        translator.save(run_dir / MODEL_FILE)
    predictor = translator.predictor_
    atomic_write_json(
        run_dir / "vocab.json",
        {
            "source_tokenizer": predictor.source_tokenizer.to_dict(),
            "target_tokenizer": predictor.target_tokenizer.to_dict(),
            "source_vocab": predictor.source_vocab.to_dict(),
            "target_vocab": predictor.target_vocab.to_dict(),
        },
    )
    evaluated = splits.test if splits.test is not None else splits.valid
    name = "test" if splits.test is not None else "valid"
    metrics: dict[str, Any] = {"split": name, "data": evaluated.source}
    found, rows = predictor.evaluate(evaluated)
    metrics.update(found)
    metrics["train_pairs"] = len(splits.train) - translator.dropped_long_
    metrics["dropped_long_pairs"] = translator.dropped_long_
    best = translator.fit_result_.best_metrics
    if "perplexity" in best:
        metrics["valid_perplexity"] = round(best["perplexity"], 4)
    metrics["train_seconds"] = round(seconds, 2)
    metrics["best_epoch"] = translator.fit_result_.best_epoch
    atomic_write_json(run_dir / "metrics.json", metrics)
    write_analysis(run_dir, rows)
    examples = choose_examples(evaluated, predictor)
    atomic_write_json(run_dir / "analysis" / EXAMPLES_FILE, examples)
    report = optional_report(write_translate_report, run_dir, predictor)
    best_epoch = translator.fit_result_.best_epoch
    return TrainSummary(run_dir, metrics, name, seconds, best_epoch, report=report)


def _evaluation_pairs(
    config: TranslateRunConfig, source: str, data: str | None, options: dict[str, Any] | None
) -> ParallelText:
    """The pairs ``evaluate`` scores: Multi30K's test split, the run's own test data, or
    ``data`` read like training data (``target_data`` among ``options`` names the aligned
    target file of a source-side text file)."""
    if is_corpus_name(source):
        return read_multi30k("test", config.data.source_lang, config.data.target_lang)
    target = config.data.test_target if data is None else (options or {}).get("target_data", "")
    return read_pairs(source, config.data, target)


def evaluate_translate_run(
    run_dir: str | Path,
    data: str | None = None,
    *,
    name: str | None = None,
    options: dict[str, Any] | None = None,
    write: bool = True,
) -> Evaluation:
    """Score a trained translation model on pairs: ``data`` (read as in training, with
    ``options`` overriding its ``[data]`` reading keys; ``multi30k``: its test split), by
    default the run's own test data. The run's own test data refreshes
    ``RUN/metrics.json``; other data goes to ``RUN/evaluations/<name>/``."""
    run_dir = Path(run_dir)
    predictor = TranslatePredictor.from_file(run_dir)
    config, source, target = plan_evaluation(
        run_dir, TranslateRunConfig, data, name=name, options=options, write=write,
        kind="a table of pairs or a source file with --target-data", builtin=is_corpus_name,
    )  # fmt: skip
    pairs = _evaluation_pairs(config, source, data, options)
    metrics: dict[str, Any] = {"split": "test", "data": pairs.source}
    found, rows = predictor.evaluate(pairs)
    metrics.update(found)
    if target is not None:
        if target == run_dir and (run_dir / "metrics.json").is_file():
            previous = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
            metrics.update({k: previous[k] for k in _TRAINING_KEYS if k in previous})
        write_evaluation_metrics(target, metrics, run_dir)
        write_analysis(target, rows)
        report = optional_report(write_translate_report, run_dir, predictor)
        return Evaluation(metrics, target, report)
    return Evaluation(metrics, target)


def compare_runs(
    run_dir: str | Path,
    other: str | Path,
    data: str | None = None,
    *,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Paired bootstrap resampling (Koehn 2004) of ``run_dir`` against ``other`` on the same
    test pairs (``data``, else ``run_dir``'s own test data), each translating with its own
    decoding settings: both BLEUs, their difference, the p-value of "``run_dir`` is not
    better" and a one-sentence ``summary`` (the task's ``compare`` door)."""
    run_dir = Path(run_dir)
    mine = TranslatePredictor.from_file(run_dir)
    theirs = TranslatePredictor.from_file(other)
    config, source, _ = plan_evaluation(
        run_dir, TranslateRunConfig, data, name=None, options=options, write=False,
        kind="a table of pairs or a source file with --target-data", builtin=is_corpus_name,
    )  # fmt: skip
    pairs = _evaluation_pairs(config, source, data, options)
    first = [str(t) for t in mine.translate(pairs.sources)]
    second = [str(t) for t in theirs.translate(pairs.sources)]
    result: dict[str, Any] = {"data": pairs.source, "other": str(other)}
    result.update(
        paired_bootstrap(first, second, pairs.targets, tokenize=mine.target_tokenizer.bleu_tokenize)
    )
    result["n_resamples"] = int(result["n_resamples"])
    result["difference"] = round(result["bleu"] - result["other_bleu"], 4)
    better = "better beyond chance" if result["p_value"] < 0.05 else "not better beyond chance"
    result["summary"] = (
        f"BLEU {result['bleu']:.2f} against {result['other_bleu']:.2f} for {other} "
        f"({result['difference']:+.2f}) on the same {len(pairs)} sentences: p = "
        f"{result['p_value']:.4f} by paired bootstrap resampling "
        f"({result['n_resamples']} resamples), so {run_dir} is {better} (5 % level)."
    )
    return result
