"""Turn a CSV file as people have it into a `Dataset`: the delimiter is sniffed, the
header row detected, text class labels kept by name, empty cells refused (or their rows
dropped on request) and the inputs standardised with the training rows' statistics.

Anything the loader cannot read raises `DatasetError` with one sentence naming the row
or column to fix. Rows are numbered as a text editor shows the file's lines, from 1.
"""

import csv
import io
import math
import re

import numpy as np

from app.data import (
    CsvReading,
    Dataset,
    DatasetError,
    check_split_args,
    shuffle_split,
    standardization,
)

# A whole-number target with at most this many values is read as classes unless the
# user says otherwise; more values than MAX_CLASSES can never be classes.
AUTO_CLASSES = 10
MAX_CLASSES = 20
MIN_ROWS = 2
MAX_INPUTS = 64
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
# What spreadsheets, R and pandas write for a missing value.
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
SNIFF_LINES = 50
# Margin around the data's bounding box, as a fraction of its width, for the drawn plane.
_EXTENT_PAD = 0.1
_DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+(?:[eE][-+]?\d+)?")

Record = tuple[int, list[str]]   # (line number in the file, cells)


def load_csv(
    data: bytes | str,
    target: str | int | None = None,
    *,
    train_ratio: float = 0.5,
    seed: int = 0,
    max_rows: int = 5000,
    max_cols: int = MAX_INPUTS,
    header: str = "auto",
    standardize: bool | str = True,
    problem: str = "auto",
    drop_empty: bool | str = False,
    name: str = "csv",
) -> Dataset:
    """Read a CSV file into a seeded train/test `Dataset`.

    `target` names the target column or gives its 0-based position (negative counts
    from the end); by default it is the last column and every other column is an input.
    `header` is "auto" (detect whether row 1 names the columns), "yes" or "no".
    A target holding text is a set of classes named by its labels (in sorted order);
    a whole-number target with at most 10 values is classification, any other number
    regression; `problem` ("classification" or "regression") overrides that guess.
    `drop_empty` leaves out rows with an empty cell instead of refusing the file.
    With `standardize`, `scale` holds the training inputs' means and stds.
    With exactly 2 inputs the extent is their bounding box plus a margin.
    """
    check_split_args(train_ratio, seed)
    header = _choice("header", header, ("auto", "yes", "no"))
    problem = _choice("problem", problem, ("auto", "classification", "regression"))
    standardize, drop_empty = _flag("standardize", standardize), _flag("drop_empty", drop_empty)
    text = _decode(data)
    delimiter = _sniff(text)
    records = _drop_blank_columns(_read_records(text, delimiter, max_rows + 2))
    if not records:
        raise DatasetError("The file is empty; upload a CSV file with one row per example.")
    number = _number_reader(delimiter)
    detected = header == "auto"
    has_header = _looks_like_header(records, number) if detected else header == "yes"
    if has_header:
        names = [cell.strip() for cell in records[0][1]]
        _check_names(names)
        rows = records[1:]
    else:
        names = [f"column {j + 1}" for j in range(len(records[0][1]))]
        rows = records
    _check_row_count(rows, max_rows, has_header)
    _check_widths(rows, len(names), has_header)
    target_col = _target_column(names, target)
    inputs = [j for j in range(len(names)) if j != target_col]
    if not inputs:
        raise DatasetError(
            f'The file needs at least one input column besides the target "{names[target_col]}".'
        )
    if len(inputs) > max_cols:
        raise DatasetError(
            f"The file has {len(inputs)} input columns; at most {max_cols} are allowed."
        )
    read = len(rows)
    rows, dropped = _handle_empty(rows, names, drop_empty)
    X = _parse_inputs(rows, names, inputs, number, has_header)
    target_cells = [(line, cells[target_col].strip()) for line, cells in rows]
    chosen, y, class_names, detected_problem, levels = _encode_target(
        target_cells, names[target_col], problem, number
    )
    X_train, y_train, X_test, y_test = shuffle_split(
        X, y, train_ratio, np.random.default_rng(seed)
    )
    reading = CsvReading(delimiter, has_header, detected, dropped, detected_problem, levels)
    return Dataset(
        name,
        chosen,
        X_train,
        y_train,
        X_test,
        y_test,
        classes=len(class_names),
        extent=_extent(X) if len(inputs) == 2 else None,
        input_names=tuple(names[j] for j in inputs),
        target_name=names[target_col],
        class_names=class_names,
        scale=standardization(X_train) if standardize else None,
        notes=_notes(reading, read, len(names), names[target_col], chosen, class_names,
                     standardize, _has_decimal_commas(rows, inputs, delimiter)),
        reading=reading,
    )


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise DatasetError(f"{option} must be one of {', '.join(allowed)}, got {value!r}.")
    return value


def _flag(option: str, value: bool | str) -> bool:
    """A checkbox's value: a bool, or the text a form sends."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "on", "yes"):
        return True
    if text in ("0", "false", "off", "no", ""):
        return False
    raise DatasetError(f"{option} must be true or false, got {value!r}.")


def _decode(data: bytes | str) -> str:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise DatasetError(
                f"The file is not UTF-8 text (byte {data[error.start]:#04x} at position "
                f"{error.start} cannot be read); save it as CSV UTF-8 and upload it again."
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        raise DatasetError("The file looks binary (it contains NUL bytes); upload a CSV text file.")
    return text


def _sniff(text: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of cells,
    most of them numbers; a comma when nothing splits (a one-column file)."""
    sample = "\n".join(line for line in text.splitlines()[:SNIFF_LINES] if line.strip())

    def score(delimiter: str) -> tuple[bool, float, float, int]:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
        except csv.Error:   # reported with its row when the file is read
            return (False, 0.0, 0.0, 0)
        widths = [len(r) for r in rows]
        if not widths:
            return (False, 0.0, 0.0, 0)
        mode = max(set(widths), key=widths.count)
        number = _number_reader(delimiter)
        cells = [c for r in rows for c in r]
        numeric = sum(number(c) is not None for c in cells) / max(len(cells), 1)
        return (mode > 1, widths.count(mode) / len(widths), numeric, mode)

    return max(DELIMITERS, key=score)


def _read_records(text: str, delimiter: str, limit: int) -> list[Record]:
    """The non-blank rows (at most `limit`) with their line numbers."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[Record] = []
    try:
        for cells in reader:
            # Spreadsheets export empty rows as lines of bare delimiters.
            if any(cell.strip() for cell in cells):
                records.append((reader.line_num, cells))
                if len(records) == limit:
                    break
    except csv.Error as error:
        raise DatasetError(f"Row {reader.line_num} is not valid CSV: {error}.") from None
    return records


def _drop_blank_columns(records: list[Record]) -> list[Record]:
    """Drop columns that are empty in every row, header included: the trace of a
    delimiter at the end of every line."""
    width = max((len(cells) for _, cells in records), default=0)
    keep = [
        j for j in range(width)
        if any(j < len(cells) and cells[j].strip() for _, cells in records)
    ]
    if len(keep) == width:
        return records
    return [(line, [cells[j] if j < len(cells) else "" for j in keep]) for line, cells in records]


def _number_reader(delimiter: str):
    """A function from a cell to its number or None; decimal commas are read too when
    the delimiter is not a comma (European spreadsheets)."""

    def number(cell: str) -> float | None:
        text = cell.strip()
        if text.lower() in MISSING:
            return None
        if delimiter != "," and _DECIMAL_COMMA.fullmatch(text):
            text = text.replace(",", ".")
        try:
            return float(text)
        except ValueError:
            return None

    return number


def _looks_like_header(records: list[Record], number) -> bool:
    """Row 1 names the columns if it holds text where the rows below hold numbers, or,
    when only text columns hold text in it, if those words appear nowhere below."""
    first = [cell.strip() for cell in records[0][1]]
    rest = [cells for _, cells in records[1:]]
    words = [j for j, cell in enumerate(first) if number(cell) is None]
    if not words:
        return False
    for j in words:
        below = [cells[j] for cells in rest if j < len(cells) and cells[j].strip()]
        if below and all(number(v) is not None for v in below):
            return True
    return all(
        first[j] not in {cells[j].strip() for cells in rest if j < len(cells)} for j in words
    )


def _check_names(names: list[str]) -> None:
    for j, name in enumerate(names):
        if not name:
            raise DatasetError(
                f"Column {j + 1} has no name in the header row; name every column "
                "or choose Header: no."
            )
        if name in names[:j]:
            raise DatasetError(f'Two columns are named "{name}"; column names must be unique.')


def _check_row_count(rows: list[Record], max_rows: int, has_header: bool) -> None:
    if len(rows) > max_rows:
        raise DatasetError(f"The file has more than {max_rows} data rows; keep at most {max_rows}.")
    if len(rows) < MIN_ROWS:
        found = "no data rows" if not rows else "only 1 data row"
        after = " after the header row" if has_header else ""
        raise DatasetError(f"The file has {found}{after}; it needs at least {MIN_ROWS}.")


def _check_widths(rows: list[Record], width: int, has_header: bool) -> None:
    reference = "the header has" if has_header else "row 1 has"
    for line, cells in rows:
        if len(cells) != width:
            raise DatasetError(
                f"Row {line} has {len(cells)} values but {reference} {width} columns."
            )


def _target_column(names: list[str], target: str | int | None) -> int:
    if target is None:
        return len(names) - 1
    if isinstance(target, str):
        wanted = target.strip()
        folded = [n.casefold() for n in names]
        if wanted in names:
            return names.index(wanted)
        if wanted.casefold() in folded:
            return folded.index(wanted.casefold())
        raise DatasetError(
            f'There is no column named "{target}"; the columns are: {", ".join(names)}.'
        )
    if isinstance(target, bool) or not -len(names) <= target < len(names):
        raise DatasetError(
            f"There is no column number {target}; the file has {len(names)} columns, "
            f"numbered 0 to {len(names) - 1}."
        )
    return target % len(names)


def _handle_empty(
    rows: list[Record], names: list[str], drop: bool
) -> tuple[list[Record], tuple[int, ...]]:
    """Refuse the first empty cell with its row and column, or drop every row with one."""
    kept, dropped = [], []
    for line, cells in rows:
        empty = [j for j, cell in enumerate(cells) if cell.strip().lower() in MISSING]
        if not empty:
            kept.append((line, cells))
        elif drop:
            dropped.append(line)
        else:
            shown = cells[empty[0]].strip()
            what = f'holds "{shown}" (a missing value)' if shown else "is empty"
            raise DatasetError(
                f'Row {line}, column "{names[empty[0]]}" {what}; fill it in, or tick '
                '"Drop rows with empty cells".'
            )
    if len(kept) < MIN_ROWS:
        raise DatasetError(
            f"Only {len(kept)} of {len(rows)} rows have no empty cell; at least {MIN_ROWS} are needed."
        )
    return kept, tuple(dropped)


def _parse_inputs(
    rows: list[Record], names: list[str], inputs: list[int], number, has_header: bool
) -> np.ndarray:
    X = np.empty((len(rows), len(inputs)))
    for i, (line, cells) in enumerate(rows):
        for k, j in enumerate(inputs):
            value = number(cells[j])
            if value is None:
                hint = ("if row 1 names the columns, choose Header: yes" if i == 0 and not has_header
                        else "only the target column may hold text (class names)")
                raise DatasetError(
                    f'Row {line}, column "{names[j]}" holds "{_short(cells[j])}", which is not a '
                    f"number; {hint}."
                )
            if not math.isfinite(value):
                raise DatasetError(
                    f'Row {line}, column "{names[j]}" is "{cells[j].strip()}"; every input must '
                    "be a finite number."
                )
            X[i, k] = value
    return X


def _has_decimal_commas(rows: list[Record], inputs: list[int], delimiter: str) -> bool:
    return delimiter != "," and any(
        _DECIMAL_COMMA.fullmatch(cells[j].strip()) for _, cells in rows for j in inputs
    )


def _short(cell: str) -> str:
    text = cell.strip()
    return text if len(text) <= 20 else text[:20] + "…"


def _encode_target(
    cells: list[tuple[int, str]], name: str, problem: str, number
) -> tuple[str, np.ndarray, tuple[str, ...], str, int]:
    """(problem, targets, class names, problem the column suggests, distinct values)."""
    values = [number(cell) for _, cell in cells]
    words = [(line, cell) for (line, cell), v in zip(cells, values) if v is None]
    if words:
        line, cell = words[0]
        if problem == "regression":
            raise DatasetError(
                f'Row {line}, column "{name}" holds "{_short(cell)}", which is not a number, so '
                f'"{name}" can only be a classification target.'
            )
        if problem == "auto" and len(words) < len(cells):
            # Mostly numbers and a stray word is a typo more often than a class.
            raise DatasetError(
                f'Row {line}, column "{name}" holds "{_short(cell)}" where other rows hold '
                "numbers; fix the cell, or choose Problem: classification to make every "
                "value a class."
            )
        labels = sorted({cell for _, cell in cells})
        _check_levels(name, labels)
        index = {label: k for k, label in enumerate(labels)}
        y = np.array([index[cell] for _, cell in cells], dtype=np.int64)
        return "classification", y, tuple(labels), "classification", len(labels)
    y = np.array(values)
    for (line, cell), v in zip(cells, values):
        if not math.isfinite(v):
            raise DatasetError(f'Row {line}, column "{name}" is "{cell}"; the target must be finite.')
    levels, index = np.unique(y, return_inverse=True)
    whole = bool(np.all(levels == np.round(levels)))
    detected = "classification" if whole and len(levels) <= AUTO_CLASSES else "regression"
    chosen = detected if problem == "auto" else problem
    if chosen == "regression":
        if len(levels) < 2:
            _check_levels(name, [f"{levels[0]:g}"])
        return "regression", y, (), detected, len(levels)
    labels = [f"{v:g}" for v in levels]
    _check_levels(name, labels)
    return "classification", index.astype(np.int64), tuple(labels), detected, len(levels)


def _check_levels(name: str, labels: list[str]) -> None:
    if len(labels) < 2:
        raise DatasetError(
            f'The target column "{name}" has the single value "{labels[0]}", so there is '
            "nothing to learn; choose a target with at least two different values."
        )
    if len(labels) > MAX_CLASSES:
        raise DatasetError(
            f'The target column "{name}" has {len(labels)} different values; as classes at '
            f"most {MAX_CLASSES} are allowed, so choose regression or another target."
        )


def _notes(
    reading: CsvReading,
    rows: int,
    columns: int,
    target: str,
    problem: str,
    class_names: tuple[str, ...],
    standardize: bool,
    decimal_commas: bool,
) -> tuple[str, ...]:
    """How the file was read, as sentences for the person who uploaded it."""
    header = (
        "row 1 was read as the column names" if reading.header
        else "row 1 was read as data (no header), so the columns are numbered"
    )
    guessed = " (detected)" if reading.header_detected else ""
    notes = [f"Read {rows} rows of {columns} columns separated by "
             f"{DELIMITER_NAMES[reading.delimiter]}; {header}{guessed}."]
    if decimal_commas:
        notes.append("Numbers with a decimal comma were read as decimals.")
    if reading.dropped_rows:
        shown = ", ".join(map(str, reading.dropped_rows[:10]))
        more = ", …" if len(reading.dropped_rows) > 10 else ""
        notes.append(f"Dropped {len(reading.dropped_rows)} rows with empty cells "
                     f"(rows {shown}{more}).")
    if problem == "classification" and reading.problem_detected == "classification" and any(
        _is_word(c) for c in class_names
    ):
        notes.append(f'The target "{target}" holds text, so its {len(class_names)} labels are '
                     f"classes: {', '.join(class_names)}.")
    elif problem == "classification":
        switch = "; choose Problem: regression to predict it as a number" if len(class_names) > 2 else ""
        notes.append(f'The target "{target}" is treated as classification with '
                     f"{len(class_names)} classes ({', '.join(class_names)}){switch}.")
    else:
        switch = ("; choose Problem: classification to make each value a class"
                  if reading.levels <= MAX_CLASSES else "")
        notes.append(f'The target "{target}" is treated as regression ({reading.levels} '
                     f"different values){switch}.")
    notes.append("Inputs are standardised with the training rows' means and standard "
                 "deviations." if standardize else "Inputs go into the network unscaled.")
    return tuple(notes)


def _is_word(label: str) -> bool:
    try:
        float(label)
    except ValueError:
        return True
    return False


def _extent(X: np.ndarray) -> tuple[float, float, float, float]:
    low, high = X.min(axis=0), X.max(axis=0)
    # A constant column still needs a plane of some width to draw.
    pad = np.where(high > low, (high - low) * _EXTENT_PAD, 1.0)
    x1min, x2min = low - pad
    x1max, x2max = high + pad
    return float(x1min), float(x1max), float(x2min), float(x2max)
