#!/usr/bin/python3
"""make-linear-fixture.py: what scikit-learn's LogisticRegression (lbfgs,
multinomial) learns on a small fixed problem, written as
tests/fixtures/linear-eval.safetensors for tests/method/test-linear-eval.c
to check instdisc's linear evaluation against.

The problem: 240 points in 6 dimensions, 4 overlapping classes (so the
optimum is finite and the weight decay matters), drawn from a fixed numpy
seed; standardised by their own mean and (population) standard deviation as
linear-eval.c does; then LogisticRegression(C = 1 / (l2 N)), whose objective
is N times instdisc's mean cross-entropy + l2 / 2 ||W||^2 (the intercept is
not penalised by lbfgs in scikit-learn 1.2).

Run with Debian's python3-sklearn:
    /usr/bin/python3 tools/make-linear-fixture.py
"""

import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import write_safetensors  # noqa: E402

N, D, C = 240, 6, 4
L2 = 1e-2


def main():
    rng = np.random.default_rng(20261203)
    centres = rng.normal(size=(C, D)) * 1.2
    labels = np.arange(N) % C
    x = (centres[labels] + rng.normal(size=(N, D)) * 1.5
         + np.array([3.0, -1.0, 0.5, 0.0, 2.0, -4.0]))
    x = (x * np.array([0.1, 1.0, 10.0, 2.0, 0.5, 1.0])).astype(np.float32)
    mean = x.astype(np.float64).mean(axis=0)
    std = x.astype(np.float64).std(axis=0)
    xs = ((x - mean.astype(np.float32)) * (1.0 / std).astype(np.float32))
    model = LogisticRegression(C=1.0 / (L2 * N), tol=1e-12, max_iter=10000)
    model.fit(xs.astype(np.float64), labels)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "fixtures", "linear-eval.safetensors")
    write_safetensors(path, [
        ("features", x),
        ("labels", labels.astype(np.int64)),
        ("weights", model.coef_.astype(np.float32)),
        ("bias", model.intercept_.astype(np.float32)),
        ("probabilities",
         model.predict_proba(xs.astype(np.float64)).astype(np.float32)),
    ], {"l2": repr(L2), "sklearn_iterations": str(int(model.n_iter_[0]))})
    print(path, "train accuracy", model.score(xs, labels))


if __name__ == "__main__":
    main()
