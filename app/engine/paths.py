"""Why not differentiate J with respect to each weight directly? The chain rule, written
out for one weight, is a sum over every path from that weight to the output.

For the weight W[l]ᵢⱼ (from unit j of layer l into unit i of layer l+1) and one example,
a path crosses one unit u of each later layer, i = u[l+1] → u[l+2] → … → u[L], and adds

    a[l]ⱼ · g′(z[l+1]_u[l+1]) · W[l+1]_u[l+2],u[l+1] · … · g′(z[L−1]_u[L−1]) · W[L−1]_u[L],u[L−1] · δ[L]_u[L]

to ∂cost/∂W[l]ᵢⱼ, where cost is the example's own cost (unregularised) and δ[L] = ∂cost/∂z[L]
(a − y for the course's pairings; a softmax's Jacobian is inside it, so paths end at z[L]).
Summing the paths layer by layer, from the output back, is exactly backprop: the partial
sums are the δ's, δ[l+1]ᵢ holds every path from unit i on, and ∂cost/∂W[l]ᵢⱼ = δ[l+1]ᵢ·a[l]ⱼ.
"""

from dataclasses import dataclass
from math import prod

import numpy as np

from .network import Network

MAX_PATHS = 20_000   # paths written out one by one; beyond, summed layer by layer (= backprop)


@dataclass(frozen=True)
class Path:
    """One chain-rule path: the unit it crosses in each layer l+1 … L and its factors."""

    units: tuple[int, ...]                    # u[l+1] = i, u[l+2], …, u[L]
    factors: tuple[tuple[str, float], ...]    # ("a", a[l]ⱼ), ("g'", ·) and ("W", ·) per layer crossed, ("delta", δ[L])
    product: float                            # their product: this path's share of ∂cost/∂W


@dataclass(frozen=True)
class Paths:
    """∂cost/∂W[l]ᵢⱼ for one example, directly (the paths) and by backprop (δ·a)."""

    count: int            # paths from the weight to the output: Π sizes[l+2 … L]
    shown: list[Path]     # the first few paths, in order of their units
    total: float          # the sum of every path: ∂cost/∂W[l]ᵢⱼ
    enumerated: bool      # True: total added path by path; False: summed layer by layer (backprop)
    a: float              # a[l]ⱼ, the weight's input
    delta: float          # δ[l+1]ᵢ = ∂cost/∂z[l+1]ᵢ, by backprop
    backprop: float       # δ[l+1]ᵢ · a[l]ⱼ
    cost: float           # the example's own cost (no penalty)


@dataclass(frozen=True)
class Work:
    """Multiplications to get ∂cost/∂W for every weight on one example."""

    weights: int    # Σ sizes[l]·sizes[l+1]
    paths: int      # chain-rule paths over all the weights
    direct: int     # the forward pass (z = Wa) + every path's product, each weight on its own
    backprop: int   # the forward pass + δ = (Wᵀδ) ⊙ g′ per hidden layer + D = δ·aᵀ


def paths_from(sizes: list[int], layer: int) -> int:
    """Paths from one unit of `layer` to the output: one choice of unit per later layer."""
    return prod(sizes[layer + 1:])


def work_counts(sizes: list[int]) -> Work:
    """Count the work for all the weights, directly and with backprop (additions not counted).

    Both need the forward pass's a and g′(z): Σ W.size multiplications. Directly, a path of
    weight layer l has a, then g′ and W for each of the L−l−1 layers it crosses, then δ[L]:
    1 + 2·(L−l−1) multiplications. Backprop multiplies each weight once more going back
    (Wᵀδ, for the hidden layers' δ), each hidden unit once by g′, and each weight once in D.
    """
    L = len(sizes) - 1
    n = [sizes[l] * sizes[l + 1] for l in range(L)]          # weights of each layer
    paths = [n[l] * paths_from(sizes, l + 1) for l in range(L)]
    forward = sum(n)
    direct = forward + sum(p * (1 + 2 * (L - l - 1)) for l, p in enumerate(paths))
    backward = sum(n[l] + sizes[l] for l in range(1, L))     # δ[l] for hidden layers 1 … L−1
    return Work(weights=sum(n), paths=sum(paths), direct=direct,
                backprop=forward + backward + sum(n))


def chain_rule_paths(net: Network, x: np.ndarray, y: np.ndarray, layer: int, to: int, frm: int,
                     show: int = 3, cap: int = MAX_PATHS) -> Paths:
    """Every path from W[layer]_to,frm to the output for the example x (sizes[0],) with
    target y (sizes[-1],), added up; and backprop's δ·a for the same derivative."""
    L = len(net.sizes) - 1
    _check("layer", layer, L)
    _check("to", to, net.sizes[layer + 1])
    _check("frm", frm, net.sizes[layer])
    t = net.trace(x[None, :], y[None, :])                     # m = 1: the example's own cost
    a = [v[0] for v in t.a]                                   # a[k] (sizes[k],)
    g_prime = [None] + [net.g_prime(t.z[k], t.a[k])[0] for k in range(1, L)]   # g′(z[k]) (sizes[k],), hidden k
    delta_L = t.delta[L][0]                                   # δ[L] (sizes[L],) = ∂cost/∂z[L]
    count = paths_from(net.sizes, layer + 1)
    enumerated = count <= cap
    # The paths in order: routes[k] (n,) is the unit each path crosses in layer layer+1+k.
    n = count if enumerated else min(show, count)
    later = net.sizes[layer + 2:]
    routes = [np.full(n, to)] + (list(np.unravel_index(np.arange(n), later)) if later else [])
    # Each factor of every path, (name, (n,) values), in the order of the formula at the top.
    factors = [("a", np.full(n, a[layer][frm]))]
    for k in range(layer + 1, L):
        here, there = routes[k - layer - 1], routes[k - layer]
        factors += [("g'", g_prime[k][here]), ("W", net.weights[k][there, here])]
    factors.append(("delta", delta_L[routes[-1]]))
    products = np.prod([values for _, values in factors], axis=0)      # (n,)
    if enumerated:
        total = float(products.sum())
    else:
        total = float(_sum_layer_by_layer(net, g_prime, delta_L, layer)[to] * a[layer][frm])
    shown = [Path(units=tuple(int(r[p]) for r in routes),
                  factors=tuple((name, float(values[p])) for name, values in factors),
                  product=float(products[p])) for p in range(min(show, n))]
    d = float(t.delta[layer + 1][0, to])
    return Paths(count=count, shown=shown, total=total, enumerated=enumerated, a=float(a[layer][frm]),
                 delta=d, backprop=d * float(a[layer][frm]), cost=float(net.example_costs(t, y[None, :])[0]))


def _check(name: str, value: int, upper: int) -> None:
    if not 0 <= value < upper:
        raise ValueError(f"{name}: must be from 0 to {upper - 1}, got {value}")


def _sum_layer_by_layer(net: Network, g_prime: list, delta_L: np.ndarray, layer: int) -> np.ndarray:
    """The sum of the paths from each unit of layer+1, shared parts added once: going back a
    layer multiplies by Wᵀ and g′ — which is backprop's δ[layer+1] (sizes[layer+1],)."""
    s = delta_L
    for k in range(len(net.sizes) - 2, layer, -1):
        s = (net.weights[k].T @ s) * g_prime[k]
    return s
