"""Data sets for Backprop Lens: the synthetic 2-D sets, the 8×8 digits, three real tabular
sets (Iris, Wine, Breast cancer) and uploaded CSV files, each delivered as one immutable
train/test split (`Dataset`).

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
TABULAR_DATASETS = ("iris", "wine", "breast_cancer")
DATASETS = (*DATASETS_2D, "digits", *TABULAR_DATASETS)
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

    `class_names` name the classes by index ("0", "1", … when the labels were numbers;
    empty for regression). `scale` is (means, stds) of the raw training inputs, one per
    column: the network sees (X − means) / stds; None means the inputs go in raw.
    `notes` are sentences about how the data was read (delimiter, header assumed,
    rows dropped, classification or regression) for the person who uploaded it, and
    `reading` the same facts as values (None for the built-in sets).
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
    class_names: tuple[str, ...] = ()
    scale: tuple[np.ndarray, np.ndarray] | None = None
    notes: tuple[str, ...] = ()
    reading: "CsvReading | None" = None

    def __post_init__(self) -> None:
        if self.problem == "classification" and not self.class_names:
            object.__setattr__(self, "class_names", tuple(str(k) for k in range(self.classes)))
        # Frozen only guards the attributes; locking the arrays as well stops a consumer
        # from silently editing data that other views of the session still show.
        for array in (self.X_train, self.y_train, self.X_test, self.y_test, *(self.scale or ())):
            array.flags.writeable = False

    @property
    def is_2d(self) -> bool:
        """True for the built-in 2-D sets, the ones the input features apply to."""
        return self.name in DATASETS_2D


@dataclass(frozen=True)
class CsvReading:
    """How an uploaded file was read, so the page can show it and offer the other way.

    `delimiter` is the one sniffed ("," ";" or a tab); `header` whether row 1 was read
    as column names and `header_detected` whether that was guessed (True) or asked for;
    `dropped_rows` the file's row numbers left out for empty cells; `problem_detected`
    what the target looked like before any choice of the user's; `levels` its number of
    distinct values.
    """

    delimiter: str
    header: bool
    header_detected: bool
    dropped_rows: tuple[int, ...]
    problem_detected: str
    levels: int


def standardization(X_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard deviations of the training inputs, column by column (z-score).

    A constant column gets a std of 1, so it maps to 0 instead of dividing by zero.
    """
    means = X_train.mean(axis=0)
    stds = X_train.std(axis=0)
    return means, np.where(stds > 0, stds, 1.0)


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
from app.data.views import class_accuracy, confusion_matrix, pca_2d  # noqa: E402

__all__ = [
    "DATASETS",
    "DATASETS_2D",
    "FEATURES",
    "FEATURE_LABELS",
    "REGRESSION_DATASETS",
    "TABULAR_DATASETS",
    "CsvReading",
    "Dataset",
    "DatasetError",
    "apply_features",
    "class_accuracy",
    "confusion_matrix",
    "load_csv",
    "make_dataset",
    "pca_2d",
    "standardization",
]
