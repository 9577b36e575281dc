"""Turn an uploaded CSV file into a `Dataset`, rejecting anything malformed with a
message that names the row or column to fix.

Rows are numbered as a spreadsheet or text editor shows them: the header is row 1.
"""

import csv
import io
import math

import numpy as np

from app.data import Dataset, DatasetError, check_split_args, shuffle_split

MAX_CLASSES = 10
MIN_ROWS = 2
# Margin around the data's bounding box, as a fraction of its width, for the drawn plane.
_EXTENT_PAD = 0.1


def load_csv(
    data: bytes | str,
    target: str | int | None = None,
    *,
    train_ratio: float = 0.5,
    seed: int = 0,
    max_rows: int = 5000,
    max_cols: int = 64,
) -> Dataset:
    """Parse a CSV file with a header row and only numeric cells into a `Dataset`.

    `target` names the target column or gives its 0-based index; by default it is the
    last column, and every other column is an input. An integer-valued target with at
    most 10 distinct values makes a classification problem (classes in sorted order),
    anything else a regression problem. With exactly 2 input columns the extent is
    their bounding box plus a margin, so the data can be drawn as a plane.
    """
    check_split_args(train_ratio, seed)
    header, rows = _read_rows(_decode(data), max_rows)
    target_col = _target_column(header, target)
    inputs = [j for j in range(len(header)) if j != target_col]
    if not inputs:
        raise DatasetError(
            f'The file needs at least one input column besides the target "{header[target_col]}".'
        )
    if len(inputs) > max_cols:
        raise DatasetError(
            f"The file has {len(inputs)} input columns; at most {max_cols} are allowed."
        )
    values = _parse_numbers(header, rows)
    X = values[:, inputs]
    problem, y, classes = _encode_target(values[:, target_col], header[target_col])
    return Dataset(
        "csv",
        problem,
        *shuffle_split(X, y, train_ratio, np.random.default_rng(seed)),
        classes=classes,
        extent=_extent(X) if len(inputs) == 2 else None,
        input_names=tuple(header[j] for j in inputs),
        target_name=header[target_col],
    )


def _decode(data: bytes | str) -> str:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise DatasetError(
                f"The file is not UTF-8 text (byte {data[error.start]:#04x} at position "
                f"{error.start} cannot be read); upload a CSV file saved as UTF-8."
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        raise DatasetError(
            "The file looks binary (it contains NUL bytes); upload a CSV text file."
        )
    return text


def _read_rows(
    text: str, max_rows: int
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Return the header's column names and the data rows as (row number, cells)."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            # Spreadsheets export empty rows as lines of bare commas.
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                _check_header(header)
            elif len(rows) == max_rows:
                # Stop reading early: the rest of an oversized file is never needed.
                raise DatasetError(
                    f"The file has more than {max_rows} data rows; keep at most {max_rows}."
                )
            else:
                rows.append((reader.line_num, cells))
    except csv.Error as error:
        raise DatasetError(
            f"Row {reader.line_num} is not valid CSV: {error}."
        ) from None
    if header is None:
        raise DatasetError(
            "The file is empty; upload a CSV file with a header row and data rows."
        )
    if len(rows) < MIN_ROWS:
        found = "only a header row" if not rows else "only 1 data row"
        raise DatasetError(
            f"The file has {found}; it needs at least {MIN_ROWS} data rows."
        )
    return header, rows


def _check_header(header: list[str]) -> None:
    if all(_to_float(name) is not None for name in header):
        raise DatasetError(
            "The first row must be a header naming the columns, but it holds only numbers."
        )
    for j, name in enumerate(header):
        if not name:
            raise DatasetError(
                f"Column {j + 1} has no name in the header row; name every column."
            )
        if name in header[:j]:
            raise DatasetError(
                f'Two columns are named "{name}"; column names must be unique.'
            )


def _to_float(text: str) -> float | None:
    """The number a cell holds, or None if it is not one."""
    try:
        return float(text)
    except ValueError:
        return None


def _target_column(header: list[str], target: str | int | None) -> int:
    if target is None:
        return len(header) - 1
    if isinstance(target, str):
        if target.strip() in header:
            return header.index(target.strip())
        raise DatasetError(
            f'There is no column named "{target}"; the columns are: {", ".join(header)}.'
        )
    if 0 <= target < len(header):
        return target
    raise DatasetError(
        f"There is no column number {target}; the file has {len(header)} columns, "
        f"numbered 0 to {len(header) - 1}."
    )


def _parse_numbers(header: list[str], rows: list[tuple[int, list[str]]]) -> np.ndarray:
    values = np.empty((len(rows), len(header)))
    for i, (row, cells) in enumerate(rows):
        if len(cells) != len(header):
            raise DatasetError(
                f"Row {row} has {len(cells)} values but the header has {len(header)} columns."
            )
        for j, cell in enumerate(cells):
            where = f'Row {row}, column "{header[j]}"'
            text = cell.strip()
            if not text:
                raise DatasetError(f"{where} is empty; every cell needs a number.")
            value = _to_float(text)
            if value is None:
                shown = text if len(text) <= 20 else text[:20] + "…"
                raise DatasetError(f'{where} holds "{shown}", which is not a number.')
            if not math.isfinite(value):
                raise DatasetError(
                    f'{where} is "{text}"; every value must be a finite number.'
                )
            values[i, j] = value
    return values


def _encode_target(y: np.ndarray, name: str) -> tuple[str, np.ndarray, int]:
    """Return (problem, targets, classes) for the raw target column."""
    levels, index = np.unique(y, return_inverse=True)
    if len(levels) > MAX_CLASSES or not np.all(levels == np.round(levels)):
        return "regression", y, 0
    if len(levels) < 2:
        raise DatasetError(
            f'The target column "{name}" has the single value {levels[0]:g}, so there is '
            "nothing to classify; choose a target with at least two different values."
        )
    return "classification", index.astype(np.int64), len(levels)


def _extent(X: np.ndarray) -> tuple[float, float, float, float]:
    low, high = X.min(axis=0), X.max(axis=0)
    # A constant column still needs a plane of some width to draw.
    pad = np.where(high > low, (high - low) * _EXTENT_PAD, 1.0)
    x1min, x2min = low - pad
    x1max, x2max = high + pad
    return float(x1min), float(x1max), float(x2min), float(x2max)
