"""Explain trained models: token attributions, gate and hidden-state traces, the run report.

>>> import rnnlab
>>> texts = ["a wonderful, moving film", "dull and far too long", "lovely acting", "dull plot"]
>>> labels = ["pos", "neg", "pos", "neg"]
>>> clf = rnnlab.TextClassifier(epochs=1, hidden_size=8).fit(texts * 5, labels * 5)
>>> clf.save("films.safetensors")
PosixPath('films.safetensors')
>>> predictor = rnnlab.load("films.safetensors")  # a run directory or a model file
>>> explanation = predictor.explain(["A moving, beautiful film."])[0]  # IG per token
>>> len(explanation.attributions) == len(explanation.tokens), explanation.label
(True, 'pos')
>>> trace = predictor.trace("A moving, beautiful film.")  # the GRU's gates per token
>>> sorted(trace.gates)
['reset', 'update']

Plots and the HTML report need matplotlib, integrated gradients need captum:
``pip install "rnnlab[explain]"``.
"""

from rnnlab.explain.attributions import Explanation, explain_texts, integrated_gradients, occlusion
from rnnlab.explain.traces import GateTrace, pca_trajectory, trace_text

__all__ = [
    "Explanation",
    "GateTrace",
    "explain_texts",
    "integrated_gradients",
    "occlusion",
    "pca_trajectory",
    "trace_text",
]
