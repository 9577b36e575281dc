"""The built-in data sets by name: generators for the 2-D sets, after TensorFlow
Playground's src/dataset.ts, and `make_dataset`, which also serves the digits.

Every 2-D set lives in the square [-6, 6]². Labels are 0/1 where the playground uses
-1/+1; class 1 is the playground's positive class: the inner disc (circle), the
quadrants where x₁x₂ ≥ 0 (xor), the blob at (2, 2) (gaussians), the arm starting at
angle 0 (spiral) and the upper moon (moons). The regression targets lie in [-1, 1].

`noise` is a percentage 0..50 like the playground's slider. As in the playground it
perturbs the point a label is computed from (circle, xor, plane, multigaussian), so a
noisy point is drawn where it was sampled but may carry the other label, or moves the
points themselves (gaussians, spiral, moons).
"""

import math
from collections.abc import Callable
from numbers import Integral, Real

import numpy as np

from app.data import (
    DATASETS,
    REGRESSION_DATASETS,
    TABULAR_DATASETS,
    Dataset,
    DatasetError,
    check_split_args,
    shuffle_split,
)
from app.data.digits import make_digits
from app.data.tabular import make_tabular

HALF_WIDTH = 6.0
EXTENT = (-HALF_WIDTH, HALF_WIDTH, -HALF_WIDTH, HALF_WIDTH)
MAX_NOISE = 50.0
INNER_RADIUS = 2.5
RING = (3.5, 5.0)

# A sampler takes the random generator, the number of points and the noise as a
# fraction 0..0.5, and returns the (points, 2) inputs and their targets.
Sample = tuple[np.ndarray, np.ndarray]
Sampler = Callable[[np.random.Generator, int, float], Sample]


def _first_half(points: int) -> np.ndarray:
    """Mask of the first points // 2 points: the class-1 half of a two-class set."""
    return np.arange(points) < points // 2


def _jitter(rng: np.random.Generator, X: np.ndarray, amount: float) -> np.ndarray:
    return X + rng.uniform(-amount, amount, X.shape)


def _polar(radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    # The playground measures angles from the x₂ axis.
    return np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])


def _circle(rng: np.random.Generator, points: int, noise: float) -> Sample:
    inner = _first_half(points)
    radius = rng.uniform(
        np.where(inner, 0.0, RING[0]), np.where(inner, INNER_RADIUS, RING[1])
    )
    X = _polar(radius, rng.uniform(0, 2 * np.pi, points))
    shifted = _jitter(rng, X, 5 * noise)
    return X, (np.hypot(shifted[:, 0], shifted[:, 1]) < INNER_RADIUS).astype(np.int64)


def _xor(rng: np.random.Generator, points: int, noise: float) -> Sample:
    X = rng.uniform(-5, 5, (points, 2))
    # Pushing points 0.3 off the axes leaves a visible margin between the quadrants.
    X += np.where(X > 0, 0.3, -0.3)
    shifted = _jitter(rng, X, 5 * noise)
    return X, (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)


def _gaussians(rng: np.random.Generator, points: int, noise: float) -> Sample:
    positive = _first_half(points)
    # The playground's variance grows linearly from 0.5 at no noise to 4 at 50%.
    std = math.sqrt(0.5 + 7 * noise)
    X = rng.normal(np.where(positive, 2.0, -2.0)[:, None], std, (points, 2))
    return X, positive.astype(np.int64)


def _spiral(rng: np.random.Generator, points: int, noise: float) -> Sample:
    first_arm = _first_half(points)
    # The playground spaces points evenly along each arm; drawing the position at
    # random instead makes every seed give new points, even without noise.
    along = rng.uniform(0, 1, points)
    angle = 1.75 * 2 * np.pi * along + np.where(first_arm, 0.0, np.pi)
    return _jitter(rng, _polar(5 * along, angle), noise), first_arm.astype(np.int64)


def _moons(rng: np.random.Generator, points: int, noise: float) -> Sample:
    upper = _first_half(points)
    t = rng.uniform(0, np.pi, points)
    # scikit-learn's unit half-moons, centred on the origin and scaled by 3.2 so they
    # span about ±4.8 like the other sets.
    x1 = np.where(upper, np.cos(t), 1 - np.cos(t)) - 0.5
    x2 = np.where(upper, np.sin(t), 0.5 - np.sin(t)) - 0.25
    X = 3.2 * np.column_stack([x1, x2]) + rng.normal(0, 2 * noise, (points, 2))
    return X, upper.astype(np.int64)


def _plane(rng: np.random.Generator, points: int, noise: float) -> Sample:
    X = rng.uniform(-HALF_WIDTH, HALF_WIDTH, (points, 2))
    shifted = _jitter(rng, X, HALF_WIDTH * noise)
    return X, np.clip(shifted.sum(axis=1) / (2 * HALF_WIDTH), -1, 1)


# (centre x₁, centre x₂, sign) of the playground's six bumps, in two rows of three.
_BUMPS = np.array(
    [
        [-4, 2.5, 1],
        [0, 2.5, -1],
        [4, 2.5, 1],
        [-4, -2.5, -1],
        [0, -2.5, 1],
        [4, -2.5, -1],
    ],
    dtype=np.float64,
)


def _multigaussian(rng: np.random.Generator, points: int, noise: float) -> Sample:
    X = rng.uniform(-HALF_WIDTH, HALF_WIDTH, (points, 2))
    shifted = _jitter(rng, X, HALF_WIDTH * noise)
    squared_distance = ((shifted[:, None, :] - _BUMPS[None, :, :2]) ** 2).sum(axis=2)
    # Unit-width bumps 4 or more apart barely overlap; the clip guards the remainder.
    return X, np.clip(np.exp(-squared_distance / 2) @ _BUMPS[:, 2], -1, 1)


_SAMPLERS: dict[str, Sampler] = {
    "circle": _circle,
    "xor": _xor,
    "gaussians": _gaussians,
    "spiral": _spiral,
    "moons": _moons,
    "plane": _plane,
    "multigaussian": _multigaussian,
}


def make_dataset(
    name: str,
    *,
    points: int = 500,
    noise: float = 0.0,
    train_ratio: float = 0.5,
    seed: int = 0,
    standardize: bool = True,
) -> Dataset:
    """Build the named data set, reproducibly from `seed`.

    For the 2-D sets, `points` is the total number of points and `noise` a percentage
    0..50; both are ignored for "digits", which always has its 1797 images, and for the
    real tables (iris, wine, breast_cancer), whose inputs are standardised with the
    training rows' statistics unless `standardize` is False.
    """
    if name not in DATASETS:
        raise DatasetError(
            f"Unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}."
        )
    check_split_args(train_ratio, seed)
    if name == "digits":
        return make_digits(train_ratio, seed)
    if name in TABULAR_DATASETS:
        return make_tabular(name, train_ratio, seed, standardize)
    if isinstance(points, bool) or not isinstance(points, Integral) or points < 2:
        raise DatasetError(
            f"points must be a whole number of at least 2, got {points!r}."
        )
    if not isinstance(noise, Real) or not 0 <= noise <= MAX_NOISE:
        raise DatasetError(f"noise must be a percentage from 0 to 50, got {noise!r}.")
    rng = np.random.default_rng(seed)
    X, y = _SAMPLERS[name](rng, int(points), float(noise) / 100)
    # Noise can carry a point past the drawn plane; keep it on the edge so it stays visible.
    X = np.clip(X, -HALF_WIDTH, HALF_WIDTH)
    regression = name in REGRESSION_DATASETS
    return Dataset(
        name,
        "regression" if regression else "classification",
        *shuffle_split(X, y, train_ratio, rng),
        classes=0 if regression else 2,
        extent=EXTENT,
        input_names=("x1", "x2"),
    )
