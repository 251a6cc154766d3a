"""The classifier's recipes on every kind of text, beside TF-IDF + LR: the README's table.

    python benchmarks/bench_recipes.py [--datasets imdb,rotten_tomatoes,...] [--recipes
        default,random,finetuned] [--out runs/recipes] [--set model.pooling=max ...]

For each built-in classification dataset (seed-0 split) and each recipe it trains a run into
``OUT/<dataset>/<recipe>`` (a finished run is read, not retrained) and prints one row: test
accuracy with its 95 % bootstrap interval, TF-IDF 1–2-grams + LR on the same texts, McNemar's
p of the model against it, and the training time on this machine.

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


def row(name: str, recipe: str, m: dict[str, Any], seconds: float) -> str:
    p = m["mcnemar_p"]
    ahead = "model" if m["mcnemar_model_only"] > m["mcnemar_baseline_only"] else "TF-IDF"
    return (
        f"| {name} | {recipe} | {m['accuracy']:.4f} [{m['accuracy_ci_low']:.4f}, "
        f"{m['accuracy_ci_high']:.4f}] | {m['baseline_tfidf_accuracy']:.4f} "
        f"[{m['baseline_tfidf_accuracy_ci_low']:.4f}, {m['baseline_tfidf_accuracy_ci_high']:.4f}]"
        f" | {p:.2g} ({ahead} ahead) | {seconds:,.0f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--recipes", default="default,random,finetuned")
    parser.add_argument("--out", type=Path, default=Path("runs/recipes"))
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--lm-set", dest="lm_sets", action="append", default=[])
    args = parser.parse_args()
    settings, lm_settings = parse_settings(args.sets), parse_settings(args.lm_sets)
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}")  # fmt: skip
    print("| dataset | recipe | accuracy [95 % CI] | TF-IDF + LR [95 % CI] | McNemar p | time |")
    print("|---|---|---|---|---|---|")
    rows = []
    for name in args.datasets.split(","):
        for recipe in args.recipes.split(","):
            folder = args.out / name
            if recipe in ("default", "random"):
                start = {"model.embeddings": "none"} if recipe == "random" else {}
                m = classifier(name, folder / recipe, {**settings, **start})
                seconds = m["train_seconds"]
            else:
                lm = language_model(name, folder / "lm", lm_settings)
                ft = {**FINE_TUNING, **settings, "model.init_from": str(folder / "lm")}
                m = classifier(name, folder / "finetuned", ft)
                seconds = lm["train_seconds"] + m["train_seconds"]
            line = row(name, recipe, m, seconds)
            rows.append(line)
            print(line, flush=True)
    (args.out / "table.md").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
