"""The tasks: one package per task on one contract (:mod:`rnnlab.tasks.base`), and the
pieces they share — the recurrent text encoder (:mod:`~rnnlab.tasks.encoder`), pretrained
vectors (:mod:`~rnnlab.tasks.pretrained`), the scikit-learn parameter protocol
(:mod:`~rnnlab.tasks.params`), the export graph (:mod:`~rnnlab.tasks.graph`) and repeated
runs over seeds or folds (:mod:`~rnnlab.tasks.repeats`).
"""
