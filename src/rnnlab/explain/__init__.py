"""Explain trained models: token attributions, gate and hidden-state traces, the run report.

>>> import rnnlab
>>> predictor = rnnlab.load("runs/imdb")
>>> [e.to_dict() for e in predictor.explain(["A moving, beautiful film."])]   # IG per token
>>> predictor.trace("A moving, beautiful film.").gates["update"]             # GRU z_t per token

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
