"""Metrics and evaluation of trained models."""

from rnnlab.evaluate.metrics import classification_metrics, confusion_matrix

__all__ = ["classification_metrics", "confusion_matrix"]
