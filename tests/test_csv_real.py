"""Files as people have them (tests/data: semicolon exports with quoted headers, decimal
commas, BOM, CRLF, a Kaggle-style trailing comma, UCI's headerless wine.data, gaps), and
the shipped tables training to a practitioner's accuracy with the app's defaults."""

from pathlib import Path

import numpy as np
import pytest

from app.data import DatasetError, load_csv, make_dataset
from app.engine import Network, accuracy, make_optimizer, one_hot_targets, train_epoch
from app.training.config import BY_NAME

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize(("name", "kwargs", "classes", "inputs"), [
    ("iris_semicolon.csv", {}, ("setosa", "versicolor", "virginica"), 4),
    ("iris_decimal_comma.csv", {}, ("setosa", "versicolor", "virginica"), 4),
    ("breast_cancer_kaggle.csv", {"target": "diagnosis"}, ("B", "M"), 31),
    ("wine_uci.data.csv", {"target": 0}, ("1", "2", "3"), 13),
    ("wine_tabs.tsv", {}, ("cultivar 1", "cultivar 2", "cultivar 3"), 13),
    ("exam_grades.csv", {}, ("1", "2", "3", "4", "5", "6"), 4),
])
def test_real_exports_load_as_they_are(name, kwargs, classes, inputs):
    d = load_csv((DATA / name).read_bytes(), **kwargs)
    assert d.class_names == classes and len(d.input_names) == inputs
    assert d.scale is not None and np.allclose(((d.X_train - d.scale[0]) / d.scale[1]).mean(axis=0), 0)


def test_header_detection_is_said_and_can_be_flipped():
    data = (DATA / "wine_uci.data.csv").read_bytes()
    d = load_csv(data, target=0)
    assert "no header" in d.notes[0] and d.reading.header_detected
    assert load_csv(data, target=0, header="yes").input_names[0] == "14.23"
    with pytest.raises(DatasetError, match="choose Header: yes"):
        load_csv((DATA / "iris_semicolon.csv").read_bytes(), header="no")


def test_empty_cells_are_refused_by_name_or_dropped_on_request():
    data = (DATA / "survey_gaps.csv").read_bytes()
    with pytest.raises(DatasetError, match='Row 3, column "age" is empty'):
        load_csv(data)
    d = load_csv(data, drop_empty=True)
    assert d.reading.dropped_rows == (3, 4, 9) and "Dropped 3 rows" in " ".join(d.notes)


def test_many_integer_levels_say_regression_and_switch():
    d = load_csv((DATA / "exam_grades.csv").read_bytes(), problem="regression")
    assert d.problem == "regression" and "choose Problem: classification" in " ".join(d.notes)
    assert load_csv((DATA / "visitors.csv").read_bytes()).problem == "regression"


def test_standardisation_off_keeps_raw_inputs():
    assert load_csv((DATA / "iris_semicolon.csv").read_bytes(), standardize=False).scale is None


def default(name):
    return BY_NAME[name].default


@pytest.mark.parametrize(("name", "epochs", "floor"), [
    ("breast_cancer", 100, 0.93), ("iris", 500, 0.90), ("wine", 500, 0.90)])
def test_shipped_tables_reach_the_issue_accuracy_with_the_default_settings(name, epochs, floor):
    d = make_dataset(name, seed=0, train_ratio=default("train_ratio"))
    mean, std = d.scale
    X_train, X_test = (d.X_train - mean) / std, (d.X_test - mean) / std
    n_out = d.classes if d.classes > 2 else 1
    net = Network([X_train.shape[1], *default("layers"), n_out], activation=default("activation"),
                  output="sigmoid", loss="cross_entropy", seed=0)
    optimizer = make_optimizer(default("optimizer"), default("learning_rate"))
    rng = np.random.default_rng(1)
    Y = one_hot_targets(d.y_train, n_out)
    for _ in range(epochs):
        train_epoch(net, X_train, Y, optimizer, default("batch_size"), rng)
    assert accuracy(net, X_test, d.y_test) >= floor


def test_a_link_to_a_csv_run_says_the_file_must_be_uploaded_again(client):
    """A link carries settings, not files: it never silently becomes the default data."""
    html = client.get("/?dataset=csv&seed=3&layers=8").get_data(as_text=True)
    notice = html.split('id="link-notice"')[1].split("</")[0]
    assert "upload the file again" in notice and "defaults" in notice
    assert 'data-query="dataset=circle' in html        # what the page will really train on
