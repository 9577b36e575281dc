"""The experiments a session answers without changing: the δ probe, gradient checking
and how both methods' cost grows with the network, the chain rule's paths for one
weight — thin calls of the engine's own functions on the session's current network and
a fixed batch (or the focus example)."""

from dataclasses import asdict

import numpy as np

from app.engine import (
    MAX_HIDDEN_LAYERS,
    THRESHOLD,
    chain_rule_paths,
    cost_sweep,
    gradient_check,
    probe_delta,
    work_counts,
)
from app.engine.paths import MAX_PATHS

from .errors import SessionError, check_index
from .frames import network_of
from .problem import finite


def _batch(session):
    """The rows a probe or check uses: the walked batch, else a fixed small batch."""
    cur = session.trainer.cursor
    return cur.indices if cur is not None else slice(0, min(len(session.X_train), 100))

def probe(session, layer: int, unit: int, h: float = 1e-4) -> dict:
    """Nudge z of one unit by ±h: (J(z+h) − J(z−h))/2h next to its δ, on the batch
    and on the focus example."""
    with session.command():
        sizes = session.problem.sizes
        if check_index("layer", layer, len(sizes), "a layer") == 0:
            raise SessionError("layer", "layer 0 is the input: it has no z to nudge")
        check_index("unit", unit, sizes[layer], "a unit")
        if isinstance(h, bool) or not isinstance(h, (int, float)) or not 1e-8 <= h <= 1:
            raise SessionError("h", "h must be a number from 1e-8 to 1")
        rows = _batch(session)
        X, Y = session.X_train[rows], session.Y_train[rows]
        fx, fy = session.X_train[session.focus:session.focus + 1], session.Y_train[session.focus:session.focus + 1]
        p = probe_delta(session.network, np.vstack([X, fx]), np.vstack([Y, fy]), layer, unit, h,
                        focus=len(X), l2=session.l2, l1=session.l1, reg_m=len(session.X_train))
        batch = probe_delta(session.network, X, Y, layer, unit, h, l2=session.l2, l1=session.l1,
                            reg_m=len(session.X_train))
        return {"layer": layer, "unit": unit, "h": h, "m": batch.m, "focus": session.focus,
                "cost_plus": finite(batch.cost_plus), "cost_minus": finite(batch.cost_minus),
                "numerical": finite(batch.numerical), "delta": finite(batch.delta),
                "difference": finite(abs(batch.numerical - batch.delta)),
                "focus_numerical": finite(p.focus_numerical), "focus_delta": finite(p.focus_delta)}

def gradcheck(session, max_params: int | None = None) -> dict:
    with session.command():
        cap = session.limits.max_gradcheck_params if max_params is None else \
            min(max_params, session.limits.max_gradcheck_params)
        rows = slice(0, min(len(session.X_train), 100))
        X, Y = session.X_train[rows], session.Y_train[rows]
        # the penalty keeps the training set's m: the gradient of the J the page plots
        check = gradient_check(session.network, X, Y, session.l2, session.l1, max_params=cap,
                               reg_m=len(session.X_train))
        b = np.concatenate([g.ravel() for g in check.backprop])
        n = np.concatenate([g.ravel() for g in check.numerical])
        sampled = np.isfinite(n)
        return {"relative_difference": check.relative_difference,
                "backprop_seconds": check.backprop_seconds,
                "numerical_seconds": check.numerical_seconds,
                "forward_passes": check.forward_passes, "parameters": check.parameters,
                "checked": check.checked, "sampled": check.checked < check.parameters,
                "m": len(X), "threshold": THRESHOLD,
                "backprop": b[sampled].tolist(), "numerical": n[sampled].tolist()}

def gradcheck_sweep(session) -> dict:
    with session.command():
        sizes, c = list(session.problem.sizes), session.config
        X, Y = session.X_train[:100], session.Y_train[:100]
    rows = cost_sweep(sizes, X, Y, c["activation"], c["output"], c["loss"], c["seed"])
    return {"hidden_layers": len(sizes) - 2, "m": len(X), "rows": rows}


SHOW_PATHS = 3        # paths the card writes out
DEEP_WIDTH = 16       # the card's comparison: the deepest network allowed, this wide


def paths(session, layer: int, to: int, frm: int, step: int | None = None) -> dict:
    """∂cost/∂W[layer]_to,frm for the focus example's own cost, path by path and by
    backprop, and the work for all the weights of this network and of a deep one, directly
    and by backprop. From the current moment (the numbers of the frame it makes), or the
    timeline's moment of `step` (the frame the timeline shows)."""
    with session.command():
        m, problem = session.moment(), session.problem
        if step is not None and step != m.step:
            m = next((s for s in session.history.snapshots if s.step == step), None)
            if m is None:
                raise SessionError("step", f"step {step} is neither the current step nor in the timeline")
    sizes = list(problem.sizes)
    check_index("layer", layer, len(sizes) - 1, "a weight layer")
    check_index("to", to, sizes[layer + 1], "a unit")
    check_index("from", frm, sizes[layer], "a unit")
    p = chain_rule_paths(network_of(m, problem), problem.X_train[m.focus], problem.Y_train[m.focus],
                         layer, to, frm, show=SHOW_PATHS)
    deep = [sizes[0]] + [DEEP_WIDTH] * MAX_HIDDEN_LAYERS + [sizes[-1]]
    return {"layer": layer, "to": to, "from": frm, "step": m.step, "focus": m.focus,
            "count": p.count, "enumerated": p.enumerated, "cap": MAX_PATHS,
            "shown": [{"units": list(q.units), "product": finite(q.product),
                       "factors": [{"name": name, "value": finite(v)} for name, v in q.factors]}
                      for q in p.shown],
            "sum": finite(p.total), "a": finite(p.a), "delta": finite(p.delta),
            "backprop": finite(p.backprop), "cost": finite(p.cost),
            "work": [{"sizes": s, **asdict(work_counts(s))} for s in (sizes, deep)]}
