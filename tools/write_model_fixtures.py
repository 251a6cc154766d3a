"""Write the model-format fixtures of lm, forecast, classify_series and translate.

    python tools/write_model_fixtures.py [TASK ...]      # default: all four

trains a tiny run of each task on real data (PTB lines, airline, GunPoint, 300 Multi30K
pairs from ``../shared/data/multi30k``) with the task's own workflow, and writes to
``tests/fixtures/model_format/``:

    <task>-format1.safetensors   the run's model file (each well under 200 KB)
    format1-outputs.json         its outputs on fixed inputs, which tests/test_contract.py
                                 checks every later release against

Run it on committed source (``git archive HEAD src | tar -x -C /tmp/head`` and
``PYTHONPATH=/tmp/head/src``), so that the files are what a release writes. classify and tag
have theirs in ``tests/fixtures/`` (written by rnnlab 0.1.0). Rewrite these
only for a new model format version, beside the old ones, never over them.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_contract import (  # noqa: E402
    FORECAST_SETTINGS,
    LM_PROMPTS,
    SERIES_SETTINGS,
    forecast_outputs,
    lm_outputs,
    lm_settings,
    train_run,
    write_ptb,
)

import rnnlab  # noqa: E402
from rnnlab.data.ucr import load_ucr  # noqa: E402
from rnnlab.runs import MODEL_FILE  # noqa: E402
from rnnlab.threads import torch_threads  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "model_format"
MULTI30K = ROOT.parent / "shared" / "data" / "multi30k"
# The translation fixture's inputs: German test sentences and their English references.
TRANSLATE_INPUTS = 10


def _multi30k(split: str, lang: str, n: int) -> list[str]:
    with gzip.open(MULTI30K / f"{split}.{lang}.gz", "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()[:n]


def _translate_run(tmp: Path) -> Path:
    """A tiny translation run on 300 Multi30K pairs (two aligned files), decoding with beam 2."""
    tmp.mkdir(parents=True)
    for lang in ("de", "en"):
        (tmp / f"train.{lang}").write_text(
            "\n".join(_multi30k("train", lang, 300)) + "\n", encoding="utf-8"
        )
    return train_run("translate", tmp / "run", {
        "data.data": str(tmp / "train.de"), "data.target_data": str(tmp / "train.en"),
        "model.embedding_dim": 16, "model.hidden_size": 24, "train.epochs": 1,
        "decode.beam": 2,
    })  # fmt: skip


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "format1-outputs.json"
    outputs = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    wanted = sys.argv[1:] or ["lm", "forecast", "classify_series", "translate"]
    builders = {
        "lm": lambda tmp: train_run("lm", tmp / "lm", lm_settings(write_ptb(tmp / "ptb"))),
        "forecast": lambda tmp: train_run("forecast", tmp / "forecast", FORECAST_SETTINGS),
        "classify_series": lambda tmp: train_run(
            "classify_series", tmp / "series", SERIES_SETTINGS
        ),
        "translate": lambda tmp: _translate_run(tmp / "translate"),
    }
    with tempfile.TemporaryDirectory() as folder, torch_threads(1):
        tmp = Path(folder)
        runs = {task: builders[task](tmp) for task in wanted}
        for task, run in runs.items():
            target = OUT / f"{task}-format1.safetensors"
            shutil.copyfile(run / MODEL_FILE, target)
            predictor = rnnlab.load(target)
            if task == "lm":
                outputs[task] = {"prompts": LM_PROMPTS, **lm_outputs(predictor)}
            elif task == "forecast":
                outputs[task] = {"forecasts": forecast_outputs(predictor)}
            elif task == "translate":
                sources = _multi30k("test_2016_flickr", "de", TRANSLATE_INPUTS)
                references = _multi30k("test_2016_flickr", "en", TRANSLATE_INPUTS)
                outputs[task] = {
                    "sources": sources,
                    "references": references,
                    "translations": predictor.translate(sources),
                    "bits": [s.bits for s in predictor.surprisal(sources, references)],
                }
            else:
                series = load_ucr("gunpoint", "TEST").values[:5].tolist()
                probabilities = predictor.predict_proba(series).tolist()
                outputs[task] = {"series": series, "probabilities": probabilities}
            print(f"{target.relative_to(ROOT)}: {target.stat().st_size:,} bytes")
    path.write_text(json.dumps(outputs, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
