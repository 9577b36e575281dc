"""Views of data that is not 2-D, computed with NumPy: a 2-D projection onto the first
two principal components, and per-class accuracy and the confusion matrix of a
classifier's predictions."""

import numpy as np


def pca_2d(X: np.ndarray, fit: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Project the rows of X onto the two directions of largest variance of `fit`
    (default: X itself), centred on fit's mean.

    Returns (points (m, 2), explained (2,)): the coordinates and the fraction of fit's
    variance each component carries. Each component's sign is fixed so that its largest
    loading is positive, so the picture does not flip between runs. With one input
    column the second coordinate is 0.
    """
    fit = X if fit is None else fit
    mean = fit.mean(axis=0)
    # The right singular vectors of the centred data are the principal directions.
    _, s, Vt = np.linalg.svd(fit - mean, full_matrices=False)
    components = Vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    variance = s**2
    explained = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(len(components))
    points = (X - mean) @ components.T
    if points.shape[1] < 2:
        points = np.column_stack([points, np.zeros(len(X))])
        explained = np.append(explained, 0.0)
    return points, explained


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    """Counts (classes, classes): row = true class, column = predicted class."""
    return np.bincount(y_true * classes + y_pred, minlength=classes * classes).reshape(
        classes, classes
    )


def class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Per true class, the fraction predicted right (NaN for a class with no examples)."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)
