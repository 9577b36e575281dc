"""The playground's input features: fixed maps from a raw 2-D point (x₁, x₂) to the
values the network's input layer receives, one input node per chosen feature."""

from collections.abc import Callable, Sequence

import numpy as np

from app.data import DatasetError

_MAPS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1sq": lambda x1, x2: x1**2,
    "x2sq": lambda x1, x2: x2**2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sinx1": lambda x1, x2: np.sin(x1),
    "sinx2": lambda x1, x2: np.sin(x2),
}

FEATURES = tuple(_MAPS)

FEATURE_LABELS = {
    "x1": "x₁",
    "x2": "x₂",
    "x1sq": "x₁²",
    "x2sq": "x₂²",
    "x1x2": "x₁x₂",
    "sinx1": "sin x₁",
    "sinx2": "sin x₂",
}


def apply_features(X: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """Map raw (m, 2) points to an (m, len(features)) float64 array, columns in the given order."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise DatasetError(
            f"Input features need 2-D points (an array with 2 columns), got shape {X.shape}."
        )
    # A bare string is a Sequence[str] too, and would be read letter by letter.
    if isinstance(features, str) or len(features) == 0:
        raise DatasetError(
            f"Choose at least one input feature from: {', '.join(FEATURES)} "
            f"(as a list of names), got {features!r}."
        )
    for name in features:
        if name not in _MAPS:
            raise DatasetError(
                f"Unknown input feature {name!r}; choose from: {', '.join(FEATURES)}."
            )
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([_MAPS[name](x1, x2) for name in features])
