"""Why a run that has not diverged has stopped learning: a hidden layer that passes no
gradient back. δ⁽ˡ⁾ = (W⁽ˡ⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ g′(z⁽ˡ⁾), so where g′(z) is 0 (a dead ReLU) or nearly
0 (a saturated sigmoid or tanh) for every example, every δ before it is ~0 and nothing
before it learns. Both follow updates that were too large, and neither shows as NaN: the
loss just stays where it is.
"""

import numpy as np

from .losses import cost
from .network import Network

SATURATED_G_PRIME = 0.01   # g′(z) below 1 % of its peak g′(0)
SATURATED_SHARE = 0.95     # of (example, unit) pairs of one layer
NO_BETTER = 0.9            # J at least this share of a constant guess's J


def constant_guess_cost(output: str, loss: str, Y: np.ndarray) -> float:
    """J of the best constant prediction h = mean(y): what a network that learned
    nothing about x achieves. The loss's own J, fed that h (and the z that gives it)."""
    if loss != "cross_entropy":                  # MSE reads h alone
        a = np.broadcast_to(Y.mean(axis=0), Y.shape)
        return cost(output, loss, a, a, Y)
    a = np.broadcast_to(np.clip(Y.mean(axis=0), 1e-12, 1 - 1e-12), Y.shape)
    z = np.log(a) if output == "softmax" else np.log(a) - np.log1p(-a)
    return cost(output, loss, z, a, Y)


def stalled_layer(net: Network, X: np.ndarray, Y: np.ndarray) -> str | None:
    """The first hidden layer through which (almost) no gradient flows, said in words
    with the reason, or None. Dead ReLUs: every unit outputs 0 for every example.
    Saturation: g′(z) is below 1 % of its peak for ≥ 95 % of the layer's (example, unit)
    pairs while J is no better than a constant guess (a trained network also saturates
    its units, but its J is far lower)."""
    t = net.forward(X)
    hidden = range(1, len(t.a) - 1)
    if net.activation == "relu":
        for l in hidden:
            if not (t.a[l] > 0).any():
                return (f"All {t.a[l].shape[1]} units of hidden layer {l + 1} output 0 for every "
                        "training example (dead ReLUs): no gradient flows back through them, so "
                        "nothing before them learns. Reset with a lower learning rate, or choose tanh.")
        return None
    if net.activation == "linear":
        return None
    J = cost(net.output, net.loss, t.z[-1], t.a[-1], Y)
    guess = constant_guess_cost(net.output, net.loss, Y)
    if J < NO_BETTER * guess:
        return None
    peak = float(net.g_prime(np.zeros(1), net.g(np.zeros(1)))[0])
    for l in hidden:
        share = float(np.mean(net.g_prime(t.z[l], t.a[l]) < SATURATED_G_PRIME * peak))
        if share >= SATURATED_SHARE:
            # No J or share in the words: the message stays on screen while they move.
            return (f"The {net.activation} units of hidden layer {l + 1} are saturated: more than "
                    f"{100 * SATURATED_SHARE:.0f} % of their z on the training set are so large that "
                    "g′(z) is below 1 % of its peak, so almost no gradient flows back through them, "
                    f"and J is no better than guessing a constant (J = {guess:.3g}). Updates that "
                    "were too large pushed the weights there: reset with a lower learning rate.")
    return None
