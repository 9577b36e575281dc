"""The problem a session trains on, as one immutable value: the data set, the inputs the
network sees (feature map, standardisation), one-hot targets, the layer sizes, and the
input-plane grids the heatmaps are drawn on. Rebuilt only by structural changes.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from app.data import FEATURE_LABELS, Dataset, apply_features, load_csv, make_dataset
from app.engine import Network, accuracy, one_hot_targets

UNIT_GRID, BOUNDARY_GRID = 16, 48


@dataclass(frozen=True, eq=False)
class Upload:
    """The user's CSV file: compressed bytes (for a new split or the store), its sha256
    and how it was read (target column and reading options)."""

    compressed: bytes
    sha256: str
    target: str | int | None
    options: Mapping = field(default_factory=dict)
    problem: str = "classification"

    @classmethod
    def of(cls, data: bytes, target, options: Mapping, problem: str) -> Upload:
        return cls(zlib.compress(data, 6), hashlib.sha256(data).hexdigest(), target, dict(options), problem)

    def raw(self) -> bytes:
        return zlib.decompress(self.compressed)

    def load(self, train_ratio: float, seed: int, max_rows: int) -> Dataset:
        return load_csv(self.raw(), self.target, train_ratio=train_ratio, seed=seed,
                        max_rows=max_rows, **self.options)


@dataclass(frozen=True, eq=False)
class Problem:
    data: Dataset
    features: tuple[str, ...]        # the feature map of the 2-D sets (else unused)
    X_train: np.ndarray              # (m_train, sizes[0]) what the input layer receives
    Y_train: np.ndarray              # (m_train, sizes[-1]) targets, one-hot for several classes
    X_test: np.ndarray
    Y_test: np.ndarray
    sizes: tuple[int, ...]
    grid: Mapping | None             # {"unit": (res, inputs), "boundary": (res, inputs)}

    def inputs(self, X_raw: np.ndarray) -> np.ndarray:
        """Raw rows → what the input layer receives: the feature map of the 2-D sets, or
        the standardisation of a table (z-scores with the training split's constants)."""
        if self.data.is_2d:
            return apply_features(X_raw, self.features)
        scale = getattr(self.data, "scale", None)
        if scale is not None:
            mean, std = scale
            return (X_raw - mean) / std
        return X_raw

    @property
    def feature_names(self) -> tuple[str, ...]:
        if self.data.is_2d:
            return tuple(FEATURE_LABELS.get(f, f) for f in self.features)
        return tuple(self.data.input_names)

    def network(self, config: Mapping, weights=None, biases=None) -> Network:
        """A network for this problem (its initial weights from the seed, or these)."""
        net = Network(list(self.sizes), activation=config["activation"], output=config["output"],
                      loss=config["loss"], init=config["init"], init_epsilon=config["init_epsilon"],
                      seed=config["seed"])
        return net if weights is None else net.with_params(weights, biases)

    def evaluate(self, net: Network, l2: float, l1: float) -> dict:
        """J on the training and test sets (the same penalty, λ/(2·m_train)) and accuracy."""
        m = len(self.X_train)
        train = net.cost(self.X_train, self.Y_train, l2, l1, reg_m=m)
        test = net.cost(self.X_test, self.Y_test, l2, l1, reg_m=m) if len(self.X_test) else None
        stats = {"loss": {"train": finite(train), "test": finite(test)}, "accuracy": None,
                 "penalty": finite(net.penalty(m, l2, l1))}
        if self.data.problem == "classification":
            stats["accuracy"] = {"train": accuracy(net, self.X_train, self.data.y_train),
                                 "test": accuracy(net, self.X_test, self.data.y_test)
                                 if len(self.X_test) else None}
        return stats


def build_problem(config: Mapping, upload: Upload | None, max_points: int) -> Problem:
    if config["dataset"] == "csv":
        data = upload.load(config["train_ratio"], config["seed"], max_points)
    else:
        data = make_dataset(config["dataset"], points=config["points"], noise=config["noise"],
                            train_ratio=config["train_ratio"], seed=config["seed"])
    partial = Problem(data, tuple(config["features"]), data.X_train, None, data.X_test, None, (), None)
    X_train, X_test = partial.inputs(data.X_train), partial.inputs(data.X_test)
    n_out = n_outputs(data, config["output"])
    problem = Problem(data=data, features=tuple(config["features"]),
                      X_train=_readonly(X_train), Y_train=_readonly(one_hot_targets(data.y_train, n_out)),
                      X_test=_readonly(X_test), Y_test=_readonly(one_hot_targets(data.y_test, n_out)),
                      sizes=(X_train.shape[1], *config["layers"], n_out), grid=None)
    return replace(problem, grid=_grid(problem))


def n_outputs(data: Dataset, output: str) -> int:
    if data.problem == "regression":
        return 1
    if output == "softmax" or data.classes > 2:
        return data.classes
    return 1


def _grid(p: Problem) -> Mapping | None:
    """Input-plane grids for the heatmaps (16×16 per unit) and the output (48×48), for
    any data with two raw inputs (the 2-D sets, a two-column CSV)."""
    if p.data.extent is None or p.data.X_train.shape[1] != 2:
        return None
    x1min, x1max, x2min, x2max = p.data.extent
    grids = {}
    for name, res in (("unit", UNIT_GRID), ("boundary", BOUNDARY_GRID)):
        g1, g2 = np.meshgrid(np.linspace(x1min, x1max, res), np.linspace(x2min, x2max, res))
        grids[name] = (res, _readonly(p.inputs(np.column_stack([g1.ravel(), g2.ravel()]))))
    return grids


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64) if a.dtype != np.int64 else np.array(a)
    a.flags.writeable = False
    return a


def finite(x: float | None) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None
