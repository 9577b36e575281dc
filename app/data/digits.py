"""The 8×8 handwritten digits: 1797 images (the UCI optdigits test set as bundled with
scikit-learn), read from the vendored digits.csv.gz so the app does not need
scikit-learn at run time. See DIGITS-LICENSE for where the file comes from."""

from functools import cache
from pathlib import Path

import numpy as np

from app.data import Dataset, shuffle_split

PIXELS = 64
CLASSES = 10
# Each pixel counts the set bits in a 4×4 block of the original 32×32 bitmap.
_MAX_PIXEL = 16.0
_PATH = Path(__file__).with_name("digits.csv.gz")


@cache
def _load() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(_PATH, delimiter=",")
    X = table[:, :PIXELS] / _MAX_PIXEL
    y = table[:, PIXELS].astype(np.int64)
    # The cached arrays are shared by every session, so nobody may write to them.
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def make_digits(train_ratio: float, seed: int) -> Dataset:
    """All 1797 images, pixels scaled to [0, 1], shuffled by `seed` and split by `train_ratio`.

    The arguments are assumed valid (`make_dataset` checks them).
    """
    X, y = _load()
    return Dataset(
        "digits",
        "classification",
        *shuffle_split(X, y, train_ratio, np.random.default_rng(seed)),
        classes=CLASSES,
        extent=None,
        input_names=tuple(f"p{i}" for i in range(PIXELS)),
        target_name="digit",
    )
