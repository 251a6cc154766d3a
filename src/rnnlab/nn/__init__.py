"""The recurrent core: RNN, LSTM and GRU layers and cells, and a linear-chain CRF.

Drop-in for ``torch.nn``'s recurrent modules (same arguments, parameter names and gate
order), with variable lengths without sorting, variational and weight dropout, and gate
recording.
"""

from rnnlab.nn.cells import GRUCell, LSTMCell, RNNCell
from rnnlab.nn.crf import CRF
from rnnlab.nn.init import orthogonal_init_
from rnnlab.nn.layers import GRU, LSTM, RNN

__all__ = ["CRF", "GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell", "orthogonal_init_"]
