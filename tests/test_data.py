"""Tests for app.data: the built-in data sets, the input features and CSV uploads."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app.data import (
    DATASETS,
    DATASETS_2D,
    FEATURE_LABELS,
    FEATURES,
    REGRESSION_DATASETS,
    DatasetError,
    apply_features,
    load_csv,
    make_dataset,
)

CLASSIFICATION_2D = tuple(
    name for name in DATASETS_2D if name not in REGRESSION_DATASETS
)


def all_points(dataset):
    return (
        np.vstack([dataset.X_train, dataset.X_test]),
        np.concatenate([dataset.y_train, dataset.y_test]),
    )


def sorted_rows(X):
    return X[np.lexsort(X.T[::-1])]


# --- built-in data sets -------------------------------------------------------------


def test_public_names_match_the_spec():
    assert DATASETS == (
        "circle",
        "xor",
        "gaussians",
        "spiral",
        "moons",
        "plane",
        "multigaussian",
        "digits",
        "iris",
        "wine",
        "breast_cancer",
    )
    assert REGRESSION_DATASETS == ("plane", "multigaussian")


@pytest.mark.parametrize("name", DATASETS)
def test_same_arguments_give_identical_arrays(name):
    a = make_dataset(name, points=200, noise=20, seed=7)
    b = make_dataset(name, points=200, noise=20, seed=7)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("name", DATASETS_2D)
def test_different_seeds_give_different_points_even_without_noise(name):
    a, _ = all_points(make_dataset(name, points=100, seed=1))
    b, _ = all_points(make_dataset(name, points=100, seed=2))
    assert not np.array_equal(sorted_rows(a), sorted_rows(b))


def test_digits_split_depends_on_seed():
    a = make_dataset("digits", seed=1)
    b = make_dataset("digits", seed=2)
    assert not np.array_equal(a.y_train, b.y_train)


@pytest.mark.parametrize("name", DATASETS_2D)
def test_2d_sets_have_the_promised_shapes_types_and_plane(name):
    d = make_dataset(name, points=300, noise=50, seed=3)
    X, y = all_points(d)
    assert X.shape == (300, 2) and X.dtype == np.float64
    assert np.all(np.abs(X) <= 6)
    assert d.extent == (-6.0, 6.0, -6.0, 6.0)
    assert d.input_names == ("x1", "x2")
    assert d.is_2d
    if name in REGRESSION_DATASETS:
        assert (d.problem, d.classes, y.dtype) == ("regression", 0, np.float64)
        assert np.all(np.abs(y) <= 1)
    else:
        assert (d.problem, d.classes, y.dtype) == ("classification", 2, np.int64)
        assert set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize(
    ("points", "ratio", "sizes"),
    [
        (500, 0.5, (250, 250)),
        (101, 0.3, (30, 71)),
        (2, 0.01, (1, 1)),
        (2, 0.99, (1, 1)),
    ],
)
def test_split_sizes_follow_train_ratio_with_at_least_one_per_side(
    points, ratio, sizes
):
    d = make_dataset("circle", points=points, train_ratio=ratio)
    assert (len(d.y_train), len(d.y_test)) == sizes
    assert d.X_train.shape == (sizes[0], 2) and d.X_test.shape == (sizes[1], 2)


@pytest.mark.parametrize("name", CLASSIFICATION_2D)
def test_noise_free_classes_are_balanced(name):
    _, y = all_points(make_dataset(name, points=400, seed=5))
    assert 0.4 <= y.mean() <= 0.6


def test_odd_point_counts_are_kept_exactly():
    _, y = all_points(make_dataset("gaussians", points=101))
    assert len(y) == 101 and y.sum() == 50


def test_noise_free_circle_is_separable_by_radius():
    X, y = all_points(make_dataset("circle", points=500, seed=4))
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius[y == 1].max() < 2.5
    assert radius[y == 0].min() >= 3.5 and radius[y == 0].max() <= 5


def test_noisy_circle_has_labels_on_the_wrong_side():
    X, y = all_points(make_dataset("circle", points=500, noise=50, seed=4))
    inside = np.hypot(X[:, 0], X[:, 1]) < 2.5
    assert 0 < np.mean(inside != (y == 1)) < 0.5


def test_noise_free_xor_label_is_the_sign_of_x1_times_x2_with_a_margin():
    X, y = all_points(make_dataset("xor", points=500, seed=4))
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(int))
    assert np.abs(X).min() >= 0.3


def test_noise_free_gaussians_are_separated_by_the_diagonal():
    X, y = all_points(make_dataset("gaussians", points=500, seed=4))
    assert np.mean((X.sum(axis=1) > 0) == (y == 1)) >= 0.99


@pytest.mark.parametrize("name", CLASSIFICATION_2D)
def test_noise_free_classes_do_not_overlap(name):
    # Every point's nearest neighbour has its label: no region mixes the classes.
    X, y = all_points(make_dataset(name, points=400, seed=6))
    distance = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(distance, np.inf)
    assert np.array_equal(y[distance.argmin(axis=1)], y)


def test_noise_free_plane_target_is_the_scaled_coordinate_sum():
    X, y = all_points(make_dataset("plane", points=200))
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 12)


def test_multigaussian_target_has_positive_and_negative_bumps():
    X, y = all_points(make_dataset("multigaussian", points=2000))
    assert y.max() > 0.9 and y.min() < -0.9
    assert np.abs(y).max() <= 1
    peak = np.argmin(
        np.hypot(X[:, 0] - 4, X[:, 1] - 2.5)
    )  # the bump at (4, 2.5) is positive
    assert y[peak] > 0.8


def test_digits_has_all_images_scaled_to_unit_range():
    d = make_dataset("digits", points=3, noise=99)  # points and noise do not apply
    X, y = all_points(d)
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    assert (d.problem, d.classes, d.extent, d.is_2d) == (
        "classification",
        10,
        None,
        False,
    )
    assert d.input_names == tuple(f"p{i}" for i in range(64))
    np.testing.assert_array_equal(np.unique(y), np.arange(10))
    assert y.dtype == np.int64


def test_digits_match_scikit_learn_load_digits():
    from sklearn.datasets import load_digits

    reference = load_digits()
    X, y = all_points(make_dataset("digits"))
    ours = np.column_stack([X * 16, y])
    theirs = np.column_stack([reference.data, reference.target])
    np.testing.assert_array_equal(sorted_rows(ours), sorted_rows(theirs))


def test_dataset_arrays_are_read_only():
    d = make_dataset("xor", points=10)
    with pytest.raises(ValueError):
        d.X_train[0, 0] = 1.0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"name": "mnist"}, "dataset"),
        ({"name": "circle", "points": 1}, "points"),
        ({"name": "circle", "points": 2.5}, "points"),
        ({"name": "circle", "noise": -1}, "noise"),
        ({"name": "circle", "noise": 51}, "noise"),
        ({"name": "circle", "noise": float("nan")}, "noise"),
        ({"name": "circle", "train_ratio": 0}, "train_ratio"),
        ({"name": "circle", "train_ratio": 1}, "train_ratio"),
        ({"name": "digits", "train_ratio": 1.5}, "train_ratio"),
        ({"name": "circle", "seed": -1}, "seed"),
    ],
)
def test_bad_arguments_raise_dataset_error_naming_the_argument(kwargs, argument):
    name = kwargs.pop("name")
    with pytest.raises(DatasetError, match=argument):
        make_dataset(name, **kwargs)


# --- input features -----------------------------------------------------------------


def test_features_and_labels_cover_the_same_names_in_order():
    assert FEATURES == ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
    assert tuple(FEATURE_LABELS) == FEATURES
    assert FEATURE_LABELS["x1sq"] == "x₁²" and FEATURE_LABELS["sinx2"] == "sin x₂"


def test_apply_features_computes_each_map_in_the_given_order():
    X = np.array([[1.0, -2.0], [0.5, 3.0]])
    x1, x2 = X[:, 0], X[:, 1]
    out = apply_features(X, ["sinx2", "x1sq", "x1x2", "x2", "x1", "x2sq", "sinx1"])
    expected = np.column_stack([np.sin(x2), x1**2, x1 * x2, x2, x1, x2**2, np.sin(x1)])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)


def test_apply_features_with_raw_coordinates_returns_the_input():
    X = make_dataset("spiral", points=50).X_train
    np.testing.assert_array_equal(apply_features(X, ("x1", "x2")), X)


@pytest.mark.parametrize(
    ("X", "features", "message"),
    [
        (np.zeros((3, 2)), ["x1", "x3"], "Unknown input feature 'x3'"),
        (np.zeros((3, 2)), [], "at least one input feature"),
        (np.zeros((3, 2)), "x1", "at least one input feature"),
        (np.zeros((3, 3)), ["x1"], "2 columns"),
        (np.zeros(4), ["x1"], "2 columns"),
    ],
)
def test_apply_features_rejects_bad_input(X, features, message):
    with pytest.raises(DatasetError, match=message):
        apply_features(X, features)


# --- CSV uploads --------------------------------------------------------------------

CLASSIFICATION_CSV = "a,b,label\n0,1,7\n2,3,3\n4,5,7\n6,7,3\n8,9,7\n"


def test_csv_classification_round_trips_with_classes_in_sorted_order():
    d = load_csv(CLASSIFICATION_CSV.encode())
    X, y = all_points(d)
    assert (d.name, d.problem, d.classes) == ("csv", "classification", 2)
    assert (d.input_names, d.target_name, d.is_2d) == (("a", "b"), "label", False)
    assert y.dtype == np.int64 and X.dtype == np.float64
    # label 3 → class 0, label 7 → class 1; rows stay intact through the shuffle
    rows = sorted_rows(np.column_stack([X, y]))
    expected = np.array(
        [[0, 1, 1], [2, 3, 0], [4, 5, 1], [6, 7, 0], [8, 9, 1]], dtype=float
    )
    np.testing.assert_array_equal(rows, expected)
    # bounding box [0, 8] × [1, 9] padded by 10% of its width
    np.testing.assert_allclose(d.extent, (-0.8, 8.8, 0.2, 9.8))


def test_csv_regression_round_trips_with_target_chosen_by_name():
    text = "t,x,y,z\n0.5,1,2,3\n1.5,4,5,6\n2.25,7,8,9\n"
    d = load_csv(text, target="t", train_ratio=0.34, seed=3)
    X, y = all_points(d)
    assert (d.problem, d.classes, d.extent) == ("regression", 0, None)
    assert (d.input_names, d.target_name) == (("x", "y", "z"), "t")
    assert (len(d.y_train), len(d.y_test)) == (1, 2)
    rows = sorted_rows(np.column_stack([y, X]))
    expected = np.array([[0.5, 1, 2, 3], [1.5, 4, 5, 6], [2.25, 7, 8, 9]])
    np.testing.assert_array_equal(rows, expected)


def test_csv_target_by_index_and_many_integer_values_mean_regression():
    rows = "\n".join(f"{i},{i * 2}" for i in range(11))
    d = load_csv(f"n,double\n{rows}\n", target=0)
    assert (d.problem, d.target_name, d.input_names) == ("regression", "n", ("double",))


def test_csv_tolerates_bom_crlf_blank_rows_quotes_and_spaces():
    data = '\ufeff"x one", x2 ,y\r\n1, 2,0\r\n,,\r\n\r\n3,4 ,1\r\n'.encode()
    d = load_csv(data)
    assert d.input_names == ("x one", "x2") and d.classes == 2
    np.testing.assert_array_equal(sorted_rows(all_points(d)[0]), [[1, 2], [3, 4]])


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 12), st.integers(2, 4)),
        elements=st.floats(-1e6, 1e6, allow_subnormal=False),
    )
)
def test_any_finite_table_round_trips_through_csv(table):
    assume(
        len(np.unique(table[:, -1])) > 1
    )  # a one-valued target is rejected, tested below
    text = ",".join(f"c{j}" for j in range(table.shape[1])) + "\n"
    text += "".join(",".join(repr(float(v)) for v in row) + "\n" for row in table)
    d = load_csv(text)
    X, y = all_points(d)
    np.testing.assert_array_equal(sorted_rows(X), sorted_rows(table[:, :-1]))
    if d.problem == "classification":
        levels = np.unique(table[:, -1])
        np.testing.assert_array_equal(np.sort(levels[y]), np.sort(table[:, -1]))
    else:
        np.testing.assert_array_equal(np.sort(y), np.sort(table[:, -1]))


def test_csv_split_is_reproducible_from_seed():
    a = load_csv(CLASSIFICATION_CSV, seed=9)
    b = load_csv(CLASSIFICATION_CSV, seed=9)
    np.testing.assert_array_equal(a.X_train, b.X_train)


WIDE_HEADER = ",".join(f"c{i}" for i in range(66))
WIDE_ROW = ",".join("1" for _ in range(66))


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (b"", {}, "The file is empty"),
        ("\n\n", {}, "The file is empty"),
        ("a,b\n", {}, "no data rows after the header row; it needs at least 2"),
        ("a,b\n1,2\n", {}, "only 1 data row"),
        (b"a,b\n\xff\xfe,1\n", {}, "not UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, "not UTF-8 text"),
        (b"a,b\n1,\x002\n3,4\n", {}, "looks binary"),
        (
            "a,b\n1,2\noops,3\n",
            {},
            'Row 3, column "a" holds "oops", which is not a number',
        ),
        (
            "a,b\n1,2\n3,oops\n",
            {},
            'Row 3, column "b" holds "oops" where other rows hold numbers',
        ),
        ("a,b\n1,2\n,4\n", {}, 'Row 3, column "a" is empty'),
        ("a,b\n1,2\n3,4,5\n", {}, "Row 3 has 3 values but the header has 2 columns"),
        ("a,b,c\n1,2,3\n4,5\n", {}, "Row 3 has 2 values but the header has 3 columns"),
        ("a,b\n1,nan\n3,4\n", {}, 'Row 2, column "b" holds "nan" \\(a missing value\\)'),
        ("a,b\n1,2\n-inf,4\n", {}, 'Row 3, column "a" is "-inf"'),
        ("a,,c\n1,2,3\n4,5,6\n", {}, "Column 2 has no name"),
        ("a,a,c\n1,2,3\n4,5,6\n", {}, 'Two columns are named "a"'),
        (
            "a,b\n1,2\n3,4\n",
            {"target": "z"},
            'no column named "z"; the columns are: a, b',
        ),
        (
            "a,b\n1,2\n3,4\n",
            {"target": 2},
            "no column number 2; the file has 2 columns",
        ),
        ("y\n1\n2\n", {}, "at least one input column besides the target"),
        ("a,b\n1,5\n2,5\n3,5\n", {}, 'target column "b" has the single value "5"'),
        ("a,b\n1,2\n3,4\n5,6\n", {"max_rows": 2}, "more than 2 data rows"),
        (
            f"{WIDE_HEADER}\n{WIDE_ROW}\n{WIDE_ROW}\n",
            {},
            "65 input columns; at most 64",
        ),
        (
            "a,b\n\n1,2\n3,x\n",
            {},
            'Row 4, column "b"',
        ),  # rows count as the file shows them
        ("a,b\n1,2\n3," + "9" * 200_000 + "\n", {}, "Row 3 is not valid CSV"),
        ("a,b\n1,2\n3,4\n", {"train_ratio": 1}, "train_ratio"),
    ],
)
def test_load_csv_rejects_bad_files_with_a_helpful_message(data, kwargs, message):
    with pytest.raises(DatasetError, match=message):
        load_csv(data, **kwargs)
