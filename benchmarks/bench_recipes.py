"""The classifier's recipes on every kind of text, beside TF-IDF + LR: the README's table.

    python benchmarks/bench_recipes.py [--datasets imdb,rotten_tomatoes,...] [--recipes
        default,random,finetuned] [--out runs/recipes] [--set model.pooling=max ...]

For each built-in classification dataset, each seed (the split and the training; ``--seeds
0,1,2``) and each recipe it trains a run into ``OUT/<dataset>/<recipe>/seed-<S>`` (a finished
run is read, not retrained) and prints one row: test accuracy with its 95 % bootstrap
interval, the network alone and the lexical member alone (the default combines them), the
TF-IDF + LR baseline tuned on the validation split, McNemar's p of the model and of the
network alone against it, the weight on the network, and the training time on this machine;
then one row per dataset and recipe: mean ± sd over the seeds and how many seeds are
significantly (p < 0.05) ahead of or behind the baseline.

* ``default``    ``rnnlab train classify --data NAME``: the defaults, nothing else (the
                 embedding starts from skip-gram vectors of the training texts).
* ``random``     the defaults with ``--embeddings none``: the embedding starts random.
* ``finetuned``  ``rnnlab train lm --data NAME`` (the training texts only; the LM's own
                 defaults, or ``--lm-set``) then ``rnnlab train classify --data NAME
                 --init-from LM``; its time is the LM's plus the classifier's.

``--set`` / ``--lm-set`` change a setting of every classifier / LM run (dotted keys), for
trying a recipe before making it the default. Runs one after another, never two at once.
"""

from __future__ import annotations

import argparse
import ast
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.tasks.classify import ClassifyRunConfig, train_classifier
from rnnlab.tasks.classify.finetune import FINE_TUNING
from rnnlab.tasks.lm.config import LMRunConfig
from rnnlab.tasks.lm.workflow import train_lm

DATASETS = ("imdb", "rotten_tomatoes", "chinese_reviews", "bbc_news", "trec", "tweets")


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs → {key: value}, values read as Python literals when they parse."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def read_metrics(run: Path) -> dict[str, Any] | None:
    path = run / "metrics.json"
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


def classifier(name: str, run: Path, settings: dict[str, Any]) -> dict[str, Any]:
    found = read_metrics(run)
    if found is None:
        config = ClassifyRunConfig().merge({"data.data": name, **settings})
        found = train_classifier(config, run).metrics
    return found


def language_model(name: str, run: Path, settings: dict[str, Any]) -> dict[str, Any]:
    found = read_metrics(run)
    if found is None:
        found = train_lm(LMRunConfig().merge({"data.data": name, **settings}), run).metrics
    return found


def machine() -> str:
    """The processor's model name (``platform.processor()`` is empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def combined_from_network(name: str, seed: int, network: Path) -> dict[str, Any]:
    """The default's metrics from a finished run of the network alone (``--combine none``,
    same data, seed and settings): the combination is fitted after training and depends
    only on the trained network and the splits, so this is the default run without
    training the network again (checked equal on rotten_tomatoes, seed 0)."""
    from rnnlab.tasks.classify.analysis import analyse_classification, with_analysis
    from rnnlab.tasks.classify.combine import combine_trained
    from rnnlab.tasks.classify.data import load_splits
    from rnnlab.tasks.classify.predictor import TextPredictor
    from rnnlab.tasks.classify.workflow import _metrics

    config = ClassifyRunConfig.from_toml(network / "config.toml")
    if config.data.data != name or config.train.seed != seed:
        raise SystemExit(f"{network} is not a run of {name} with seed {seed}")
    splits = load_splits(config.data, seed)
    predictor = TextPredictor.from_file(network)
    index = {label: k for k, label in enumerate(predictor.labels)}
    combination = combine_trained(
        predictor.model,
        predictor.encode(splits.train.texts),
        [index[label] for label in splits.train.labels],
        vocab_size=len(predictor.vocab), pad_id=predictor.vocab.pad_id,
        valid_sequences=predictor.encode(splits.valid.texts),
        valid_labels=[index[label] for label in splits.valid.labels],
        recurrent_valid_probs=predictor.predict_proba(splits.valid.texts),
    )  # fmt: skip
    metrics, probs, members = _metrics(predictor, splits.test, "test")
    metrics.update(combination.summary())
    metrics["train_seconds"] = read_metrics(network)["train_seconds"]  # type: ignore[index]
    analysis = analyse_classification(
        predictor, splits.test, probs, train=splits.train, valid=splits.valid,
        members=members, seed=seed,
    )  # fmt: skip
    return with_analysis(metrics, analysis)


def row(name: str, recipe: str, seed: int, m: dict[str, Any], seconds: float) -> str:
    def p_cell(prefix: str) -> str:
        if f"{prefix}p" not in m:
            return "–"
        first = m[f"{prefix}model_only"] > m[f"{prefix}baseline_only"]
        return f"{m[f'{prefix}p']:.2g} ({'ahead' if first else 'behind'})"

    def acc(prefix: str) -> str:
        key = f"{prefix}accuracy"
        return f"{m[key]:.4f}" if key in m else "–"

    return (
        f"| {name} | {recipe} | {seed} | {m['accuracy']:.4f} [{m['accuracy_ci_low']:.4f}, "
        f"{m['accuracy_ci_high']:.4f}] | {acc('recurrent_')} | {acc('lexical_')} | "
        f"{m['baseline_tfidf_accuracy']:.4f} | {p_cell('mcnemar_')} | "
        f"{p_cell('recurrent_mcnemar_')} | {m.get('combine_recurrent_weight', '–')} | "
        f"{seconds:,.0f} s |"
    )


def mean_sd(values: list[float]) -> str:
    array = np.asarray(values, dtype=float)
    sd = array.std(ddof=1) if array.size > 1 else 0.0
    return f"{array.mean():.4f} ± {sd:.4f}"


def summary_row(name: str, recipe: str, runs: list[dict[str, Any]]) -> str:
    """Mean ± sd over seeds, and how often the model is significantly ahead / behind."""

    def column(key: str) -> str:
        values = [m[key] for m in runs if key in m]
        return mean_sd(values) if len(values) == len(runs) else "–"

    ahead = sum(m["mcnemar_p"] < 0.05 and m["mcnemar_model_only"] > m["mcnemar_baseline_only"]
                for m in runs)  # fmt: skip
    behind = sum(m["mcnemar_p"] < 0.05 and m["mcnemar_model_only"] < m["mcnemar_baseline_only"]
                 for m in runs)  # fmt: skip
    worst = max(m["mcnemar_p"] for m in runs)
    return (
        f"| {name} | {recipe} | {len(runs)} | {column('accuracy')} | "
        f"{column('recurrent_accuracy')} | {column('baseline_tfidf_accuracy')} | "
        f"{ahead} / {behind} | {worst:.2g} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--recipes", default="default,random,finetuned")
    parser.add_argument("--seeds", default="0", help="comma-separated split/training seeds")
    parser.add_argument("--out", type=Path, default=Path("runs/recipes"))
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--lm-set", dest="lm_sets", action="append", default=[])
    parser.add_argument(
        "--network-runs", type=Path, default=None,
        help="a folder of network-alone runs NAME-SEED (--combine none): the default recipe "
        "is read from them with the combination fitted on top instead of training again",
    )  # fmt: skip
    args = parser.parse_args()
    settings, lm_settings = parse_settings(args.sets), parse_settings(args.lm_sets)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print(f"{machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    seed_header = (
        "| dataset | recipe | seed | accuracy [95 % CI] | network alone | lexical member | "
        "TF-IDF + LR (tuned) | McNemar p vs TF-IDF | network alone vs TF-IDF | weight | time |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    print(seed_header)
    rows, summaries = [], []
    for name in args.datasets.split(","):
        for recipe in args.recipes.split(","):
            found = []
            for seed in seeds:
                folder = args.out / name / recipe / f"seed-{seed}"
                seeded = {**settings, "train.seed": seed}
                if recipe == "default" and args.network_runs is not None:
                    m = read_metrics(folder) or combined_from_network(
                        name, seed, args.network_runs / f"{name}-{seed}"
                    )
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / "metrics.json").write_text(json.dumps(m, default=float))
                    seconds = m["train_seconds"]
                elif recipe in ("default", "random"):
                    start = {"model.embeddings": "none"} if recipe == "random" else {}
                    m = classifier(name, folder, {**seeded, **start})
                    seconds = m["train_seconds"]
                else:
                    lm = language_model(name, folder / "lm", {**lm_settings, "train.seed": seed})
                    ft = {**FINE_TUNING, **seeded, "model.init_from": str(folder / "lm")}
                    m = classifier(name, folder / "finetuned", ft)
                    seconds = lm["train_seconds"] + m["train_seconds"]
                found.append(m)
                line = row(name, recipe, seed, m, seconds)
                rows.append(line)
                print(line, flush=True)
            summaries.append(summary_row(name, recipe, found))
    print()
    header = ("| dataset | recipe | seeds | accuracy mean ± sd | network alone | "
              "TF-IDF + LR (tuned) | significantly ahead / behind | largest p |\n"
              "|---|---|---|---|---|---|---|---|")  # fmt: skip
    print(header)
    print("\n".join(summaries))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(
        "\n".join([header, *summaries, "", seed_header, *rows]) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
