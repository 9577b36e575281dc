"""The NumPy backpropagation engine: importable on its own, no web imports.

    from app.engine import Network, numerical_gradients
    net = Network(sizes=[2, 4, 1], activation="tanh", output="sigmoid",
                  loss="cross_entropy", seed=0)
    dW, db = net.gradients(X, Y)
"""

from .activations import HIDDEN, OUTPUT
from .gradcheck import (
                        THRESHOLD,
                        GradientCheck,
                        Probe,
                        cost_sweep,
                        gradient_check,
                        numerical_gradients,
                        probe_delta,
                        relative_difference,
)
from .initializers import INITS
from .losses import LOSSES
from .network import MAX_HIDDEN_LAYERS, Network, Trace
from .optimizers import OPTIMIZERS, make_optimizer, minibatches
from .paths import chain_rule_paths, work_counts
from .training import accuracy, one_hot_targets, train_epoch

ACTIVATIONS = tuple(HIDDEN)
OUTPUTS = tuple(OUTPUT)

__all__ = [
    "ACTIVATIONS", "INITS", "LOSSES", "MAX_HIDDEN_LAYERS", "OPTIMIZERS", "OUTPUTS",
    "THRESHOLD", "GradientCheck", "Network", "Probe", "Trace", "accuracy", "chain_rule_paths", "cost_sweep",
    "gradient_check", "make_optimizer", "minibatches", "numerical_gradients", "one_hot_targets",
    "probe_delta", "relative_difference", "train_epoch", "work_counts",
]
