"""The translation task's builder for the contract suite (``tests/test_contract.py``), kept
beside the task's own tests: ``BUILDERS["translate"] = build_translate`` there, with
``"translate"`` added to its ``TASKS`` and ``OVERFIT["translate"] = OVERFIT_SETTINGS``.

A tiny model trained on 300 real Multi30K pairs through the estimator's saving path; its
outputs are the beam-2 translations and the forced-decoding surprisal of 20 test pairs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rnnlab
from rnnlab.runs import MODEL_FILE

from .conftest import multi30k_lines

# Adam at 3e-2 (the suite's default) collapses this model to the unigram distribution (loss
# 5.47 → 3.40 and flat); at 1e-2 the eight pairs are memorised (5.47 → 0.04 in 150 steps).
OVERFIT_SETTINGS = (1e-2, 150)


def build_translate(tmp: Path) -> Any:
    from rnnlab.tasks.translate import Translator
    from rnnlab.tasks.translate.data import TranslateBatches, encode_side
    from tests.test_contract import TRAIN, Trained

    sources, targets = multi30k_lines("train", "de", 300), multi30k_lines("train", "en", 300)
    test_src = multi30k_lines("test_2016_flickr", "de", 20)
    test_tgt = multi30k_lines("test_2016_flickr", "en", 20)
    mt = Translator(**{"model.embedding_dim": 32, "model.hidden_size": 64,
                       "model.input_dropout": 0.0, "model.label_smoothing": 0.0,
                       "train.epochs": 1, "decode.beam": 2, **TRAIN}
                    ).fit(sources, targets)  # fmt: skip
    loaded = rnnlab.load(mt.save(tmp / MODEL_FILE))
    p = mt.predictor_
    eight = TranslateBatches(
        encode_side(p.source_vocab, [p.source_tokenizer(s) for s in sources[:8]]),
        encode_side(p.target_vocab, [p.target_tokenizer(t) for t in targets[:8]]),
        8,
        eos_id=mt.model_.eos_id,
    )

    def outputs(predictor: Any) -> dict[str, Any]:
        return {
            "translations": predictor.translate(test_src),
            "bits": [s.bits for s in predictor.surprisal(test_src, test_tgt)],
        }

    return Trained(
        loaded, p, outputs, mt.model_, next(eight.batches()),
        [lambda q: q.translate([3]), lambda q: q.surprisal(["Ein Hund."], ["A dog.", "Two."])],
    )  # fmt: skip
