"""Unrolled in process: trace your own recurrent network and see every number, without a server.

    import unrolled
    trace = unrolled.trace(torch_lstm, x, head=torch_linear)   # or a state_dict, a weights file, a config
    trace.layers[0][0].quantities()["f"]                        # the forget gate, (T, B, H)
    grads = unrolled.gradients(torch_lstm, x, d_output, head=torch_linear)
    trace.to_csv(path="trace.csv"); trace.show()

The numbers come from the server's own NumPy core (core.network, core.bptt), so they are the numbers
``POST /api/v1/trace`` and ``/gradients`` give. PyTorch is optional: it is imported only to read a .pt file,
and otherwise used only through the torch objects a caller passes.

>>> import numpy as np
>>> from core.config import NetworkConfig
>>> from core.params import init_params
>>> config = NetworkConfig("gru", input_size=1, hidden_size=2)
>>> t = trace((config, init_params(config, seed=3)), np.array([[0.5], [-1.0], [2.0]]))
>>> t.num_steps, t.quantity(0, 0, "z").shape
(3, (3, 2))
>>> print(t.to_csv(precision=3).decode().splitlines()[1])
0,input,,x,0,0.5
"""

from core.weights_io import ReadBounds
from unrolled.model import Model, load
from unrolled.page import show
from unrolled.running import Gradients, gradients, trace
from unrolled.traced import Trace

__all__ = ["Gradients", "Model", "ReadBounds", "Trace", "gradients", "load", "show", "trace"]
