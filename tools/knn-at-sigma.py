#!/usr/bin/python3
"""The weighted kNN of `instdisc eval` at temperatures of your choosing, on
exported features, to compare runs trained at different tau on one scale
(the program's kNN weighs a neighbour by exp (similarity / sigma) with
sigma the run's own tau, as the reference's test.py does).

    instdisc export --run RUN --source recomputed --split train --out A
    instdisc export --run RUN --source recomputed --split test  --out B
    tools/knn-at-sigma.py A B SIGMA [SIGMA...]

(`--source bank` for A scores against the memory bank instead.) Prints the
test top-1 for each sigma, K 200. At the run's own tau it gives `instdisc
eval --recompute`'s top-1 (the same neighbours and weights; a tie
between classes goes to the lower class, as src/method/knn.c). Not a test:
it needs a trained run.
"""
import sys

import numpy as np

K = 200


def load(folder):
    return np.load(f"{folder}/features.npy"), np.load(f"{folder}/labels.npy")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    train_x, train_y = load(sys.argv[1])
    test_x, test_y = load(sys.argv[2])
    sigmas = [float(s) for s in sys.argv[3:]]
    n_classes = int(train_y.max()) + 1

    # the K most similar training rows of every test row, a block at a time
    sims = np.empty((len(test_x), K), dtype=np.float32)
    labels = np.empty((len(test_x), K), dtype=np.int64)
    for start in range(0, len(test_x), 1000):
        block = test_x[start:start + 1000] @ train_x.T
        top = np.argpartition(-block, K, axis=1)[:, :K]
        sims[start:start + 1000] = np.take_along_axis(block, top, axis=1)
        labels[start:start + 1000] = train_y[top]

    for sigma in sigmas:
        weights = np.exp(sims.astype(np.float64) / sigma)
        votes = np.zeros((len(test_x), n_classes))
        np.add.at(votes, (np.arange(len(test_x))[:, None], labels), weights)
        top1 = 100 * (votes.argmax(axis=1) == test_y).mean()
        print(f"sigma {sigma:g}: weighted kNN (K {K}) test top-1 {top1:.2f}%")


if __name__ == "__main__":
    main()
