"""Write the model-format fixtures of lm, forecast and classify_series.

    python tools/write_model_fixtures.py

trains a tiny run of each task on real data (PTB lines, airline, GunPoint) with the task's
own workflow, and writes to ``tests/fixtures/model_format/``:

    <task>-format1.safetensors   the run's model file (each well under 200 KB)
    format1-outputs.json         its outputs on fixed inputs, which tests/test_contract.py
                                 checks every later release against

Run it on committed source (``git archive HEAD src | tar -x -C /tmp/head`` and
``PYTHONPATH=/tmp/head/src``), so that the files are what a release writes. classify and tag
have theirs in ``tests/fixtures/`` (written by rnnlab 0.1.0). Rewrite these
only for a new model format version, beside the old ones, never over them.
"""

from __future__ import annotations

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


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    outputs = {}
    with tempfile.TemporaryDirectory() as folder, torch_threads(1):
        tmp = Path(folder)
        runs = {
            "lm": train_run("lm", tmp / "lm", lm_settings(write_ptb(tmp / "ptb"))),
            "forecast": train_run("forecast", tmp / "forecast", FORECAST_SETTINGS),
            "classify_series": train_run("classify_series", tmp / "series", SERIES_SETTINGS),
        }
        for task, run in runs.items():
            target = OUT / f"{task}-format1.safetensors"
            shutil.copyfile(run / MODEL_FILE, target)
            predictor = rnnlab.load(target)
            if task == "lm":
                outputs[task] = {"prompts": LM_PROMPTS, **lm_outputs(predictor)}
            elif task == "forecast":
                outputs[task] = {"forecasts": forecast_outputs(predictor)}
            else:
                series = load_ucr("gunpoint", "TEST").values[:5].tolist()
                probabilities = predictor.predict_proba(series).tolist()
                outputs[task] = {"series": series, "probabilities": probabilities}
            print(f"{target.relative_to(ROOT)}: {target.stat().st_size:,} bytes")
    path = OUT / "format1-outputs.json"
    path.write_text(json.dumps(outputs, indent=1) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
