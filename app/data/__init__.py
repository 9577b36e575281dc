"""Data sets for Backprop Lens: the synthetic 2-D sets, the 8×8 digits and uploaded CSV
files, each delivered as one immutable train/test split (`Dataset`).

This module holds what every loader shares (the `Dataset` record, `DatasetError`, the
argument checks and the seeded split) and re-exports the loaders, so callers import
everything from `app.data`.
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

DATASETS_2D = (
    "circle",
    "xor",
    "gaussians",
    "spiral",
    "moons",
    "plane",
    "multigaussian",
)
DATASETS = (*DATASETS_2D, "digits")
REGRESSION_DATASETS = ("plane", "multigaussian")


class DatasetError(ValueError):
    """A data set cannot be built; the message is a sentence telling the user what to fix."""


# eq=False: field-wise equality would compare arrays, which is ambiguous, and frozen
# dataclasses would then try to hash them.
@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of raw inputs and targets.

    `X_*` are float64 (m, d) raw inputs (before any feature map); `y_*` are int64 class
    indices 0..classes-1 for classification or float64 targets for regression, in which
    case `classes` is 0. `extent` is (x1min, x1max, x2min, x2max) of the plane to draw
    when the inputs are 2-D, else None. The arrays are read-only.
    """

    name: str
    problem: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int
    extent: tuple[float, float, float, float] | None
    input_names: tuple[str, ...]
    target_name: str = "y"

    def __post_init__(self) -> None:
        # Frozen only guards the attributes; locking the arrays as well stops a consumer
        # from silently editing data that other views of the session still show.
        for array in (self.X_train, self.y_train, self.X_test, self.y_test):
            array.flags.writeable = False

    @property
    def is_2d(self) -> bool:
        """True for the built-in 2-D sets, the ones the input features apply to."""
        return self.name in DATASETS_2D


def check_split_args(train_ratio: float, seed: int) -> None:
    """Reject a train_ratio outside (0, 1) or a seed that is not a whole number ≥ 0."""
    if not isinstance(train_ratio, Real) or not 0 < train_ratio < 1:
        raise DatasetError(
            f"train_ratio must be a number strictly between 0 and 1, got {train_ratio!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise DatasetError(f"seed must be a whole number of at least 0, got {seed!r}.")


def shuffle_split(
    X: np.ndarray, y: np.ndarray, train_ratio: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the rows with `rng` and return X_train, y_train, X_test, y_test.

    The first round(m * train_ratio) shuffled rows train, the rest test; each side
    keeps at least one row, so m must be at least 2.
    """
    m = len(y)
    n_train = min(max(round(m * train_ratio), 1), m - 1)
    order = rng.permutation(m)
    train, test = order[:n_train], order[n_train:]
    return X[train], y[train], X[test], y[test]


# The loaders build Datasets and raise DatasetError, so they can only be imported once
# those exist.
from app.data.csvdata import load_csv  # noqa: E402
from app.data.features import FEATURE_LABELS, FEATURES, apply_features  # noqa: E402
from app.data.synthetic import make_dataset  # noqa: E402

__all__ = [
    "DATASETS",
    "DATASETS_2D",
    "FEATURES",
    "FEATURE_LABELS",
    "REGRESSION_DATASETS",
    "Dataset",
    "DatasetError",
    "apply_features",
    "load_csv",
    "make_dataset",
]
