#!/usr/bin/python3
"""Cross-checks `instdisc eval --linear` against scikit-learn on the same
exported features.

    instdisc export --run RUN --source recomputed --split train --out A
    instdisc export --run RUN --source recomputed --split test  --out B
    tools/check-linear-sklearn.py A B L2 [MAX_ITER]

L2 is the weight instdisc chose (its `eval --linear` prints it). The same
classifier as src/method/linear-eval.h: multinomial logistic regression on
features standardised by the training set's mean and standard deviation,
minimising mean cross-entropy + l2 / 2 ||W||^2 with the bias unpenalised,
which is scikit-learn's LogisticRegression(C = 1 / (l2 N)). Prints its test
top-1 to compare with instdisc's. Not a test: it needs a trained run.
"""
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression


def load(folder):
    return np.load(f"{folder}/features.npy"), np.load(f"{folder}/labels.npy")


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    train_x, train_y = load(sys.argv[1])
    test_x, test_y = load(sys.argv[2])
    l2 = float(sys.argv[3])
    max_iter = int(sys.argv[4]) if len(sys.argv) == 5 else 1000

    mean = train_x.mean(axis=0)
    std = train_x.std(axis=0)
    std[std == 0] = 1
    train_x = (train_x - mean) / std
    test_x = (test_x - mean) / std

    start = time.monotonic()
    classifier = LogisticRegression(C=1 / (l2 * len(train_x)), max_iter=max_iter,
                                    tol=1e-6)
    classifier.fit(train_x, train_y)
    seconds = time.monotonic() - start
    top1 = 100 * (classifier.predict(test_x) == test_y).mean()
    print(f"scikit-learn LogisticRegression (lbfgs, l2 {l2:g}, "
          f"{classifier.n_iter_[0]} iterations, {seconds:.1f} s): "
          f"test top-1 {top1:.2f}%")


if __name__ == "__main__":
    main()
