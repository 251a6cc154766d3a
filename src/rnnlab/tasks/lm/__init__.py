"""Language models (in progress): next-token LSTM/GRU models on ``rnnlab.nn``.

So far the library pieces — the run config (:mod:`.config`), the token stream with
truncated-BPTT and exact evaluation batches (:mod:`.data`) and the model with the AWD-LSTM
regularisers (:mod:`.model`), trained by the one Trainer. The task is not registered yet:
``rnnlab train lm``, ``generate``, ``score`` and the predictor come next.
"""
