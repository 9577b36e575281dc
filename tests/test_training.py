"""Training with the defaults actually learns: the accuracy targets of the course's
problems, through the same Session the web page drives."""

import numpy as np
import pytest

from app.data import make_dataset
from app.engine import Network, accuracy, make_optimizer, one_hot_targets, train_epoch
from app.training import Session


@pytest.mark.parametrize("dataset", ["circle", "xor", "gaussians"])
def test_defaults_reach_97_percent(dataset):
    s = Session("t", {"dataset": dataset, "seed": 0})
    s.step("epoch", 200)
    assert s.summary()["accuracy"]["train"] >= 0.97


def test_spiral_with_a_larger_net_reaches_90_percent():
    s = Session("t", {"dataset": "spiral", "seed": 0, "layers": [8, 8, 8],
                      "optimizer": "adam", "learning_rate": 0.01,
                      "features": ["x1", "x2", "sinx1", "sinx2"]})
    s.step("epoch", 400)
    assert s.summary()["accuracy"]["train"] >= 0.90


def test_digits_64_25_10_reaches_95_percent():
    d = make_dataset("digits", train_ratio=0.7, seed=0)
    net = Network([64, 25, 10], activation="sigmoid", output="sigmoid", init_epsilon=0.12, seed=0)
    Y = one_hot_targets(d.y_train, 10)
    opt = make_optimizer("gd", 2.0)
    rng = np.random.default_rng(0)
    for _ in range(300):
        train_epoch(net, d.X_train, Y, opt, len(Y), rng, l2=1.0)
    assert accuracy(net, d.X_train, d.y_train) >= 0.95
    assert accuracy(net, d.X_test, d.y_test) >= 0.85
