"""The real tabular data sets that ship with the app: Iris, Wine and Breast cancer,
vendored as CSV files in tables/ (see tables/LICENSE) and read by the same loader as an
upload, so they behave exactly like a user's file: classes by name, inputs
standardised by default."""

from functools import cache
from pathlib import Path

from app.data import Dataset
from app.data.csvdata import load_csv

_TABLES = Path(__file__).with_name("tables")


@cache
def _read(name: str) -> bytes:
    return (_TABLES / f"{name}.csv").read_bytes()


def make_tabular(name: str, train_ratio: float, seed: int, standardize: bool = True) -> Dataset:
    """The named table's rows, shuffled by `seed` and split by `train_ratio`.

    The arguments are assumed valid (`make_dataset` checks them).
    """
    return load_csv(_read(name), train_ratio=train_ratio, seed=seed, max_rows=1000,
                    header="yes", standardize=standardize, name=name)
