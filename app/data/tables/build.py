"""Write iris.csv, wine.csv and breast_cancer.csv in this folder from scikit-learn's
bundled copies of the UCI data sets (run once, by hand: scikit-learn is a development
dependency only; the app reads the CSV files).

    python app/data/tables/build.py

Each file has a header row naming the columns as scikit-learn does and a last column
holding the class by name, as a person would export it from a spreadsheet.
"""

import csv
from pathlib import Path

from sklearn import datasets

HERE = Path(__file__).parent
# (file, loader, target column, the class names as written)
TABLES = (
    ("iris", datasets.load_iris, "species", None),
    ("wine", datasets.load_wine, "cultivar", ("cultivar 1", "cultivar 2", "cultivar 3")),
    ("breast_cancer", datasets.load_breast_cancer, "diagnosis", None),
)


def write(name: str, load, target: str, class_names: tuple[str, ...] | None) -> None:
    bunch = load()
    names = class_names or tuple(bunch.target_names)
    with open(HERE / f"{name}.csv", "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow([*bunch.feature_names, target])
        for x, y in zip(bunch.data, bunch.target):
            # repr keeps every digit scikit-learn read from the original file.
            out.writerow([*(repr(float(v)) for v in x), names[y]])


if __name__ == "__main__":
    for table in TABLES:
        write(*table)
