#!/usr/bin/python3
"""bench-knn-faiss.py: bench-knn (C) side by side with FAISS and NumPy.

Writes one set of random unit rows to a temporary directory as raw float32
/ int32 files, runs build/bench/bench-knn --data DIR on them, then the same
three cases with FAISS (IndexFlatIP, 2 OpenMP threads) and with NumPy
(BLAS products + argpartition), and prints one table with the ratios. The
C program's top-10 indices are checked against FAISS's.

    /usr/bin/python3 tools/bench-knn-faiss.py [--bench build/bench/bench-knn]
        [--repeats 3] [--singles 51] [--threads 2] [--skip-numpy]

Cases (docs/benchmarks-method.md):
  classify  10,000 queries, weighted kNN k 200, sigma 0.1, vs 60,000 x 128
  search    1,000 top-10 queries vs 1,000,000 x 128
  single    1 top-10 query vs 1,000,000 x 128, median latency
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

DIM, TRAIN, TEST, CLASSES = 128, 60000, 10000, 10
BANK, QUERIES, K_SEARCH, K_KNN, SIGMA = 1000000, 1000, 10, 200, 0.1


def unit_rows(rng, n):
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), result


def weighted_vote(sims, idx, train_labels, test_labels):
    """test.py's rule on (Q, k) neighbours: class sums of exp(s / sigma)."""
    weights = np.exp(sims.astype(np.float64) / SIGMA)
    sums = np.zeros((sims.shape[0], CLASSES))
    np.add.at(sums, (np.arange(sims.shape[0])[:, None], train_labels[idx]), weights)
    return float(np.mean(np.argmax(sums, axis=1) == test_labels))


def numpy_topk(queries, base, k, block=256):
    """top-k by BLAS product of a block of queries against the whole base."""
    sims = np.empty((queries.shape[0], k), np.float32)
    idx = np.empty((queries.shape[0], k), np.int64)
    for q0 in range(0, queries.shape[0], block):
        s = queries[q0:q0 + block] @ base.T
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        ps = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-ps, axis=1, kind="stable")
        idx[q0:q0 + block] = np.take_along_axis(part, order, axis=1)
        sims[q0:q0 + block] = np.take_along_axis(ps, order, axis=1)
    return sims, idx


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser()
    p.add_argument("--bench", default=os.path.join(root, "build", "bench", "bench-knn"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--singles", type=int, default=51)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--skip-numpy", action="store_true")
    args = p.parse_args()

    import faiss
    faiss.omp_set_num_threads(args.threads)

    rng = np.random.default_rng(args.seed)
    train, test = unit_rows(rng, TRAIN), unit_rows(rng, TEST)
    train_labels = rng.integers(0, CLASSES, TRAIN, dtype=np.int32)
    test_labels = rng.integers(0, CLASSES, TEST, dtype=np.int32)
    bank, queries = unit_rows(rng, BANK), unit_rows(rng, QUERIES)

    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-knn-") as tmp:
        for name, array in [("train.f32", train), ("test.f32", test),
                            ("train-labels.i32", train_labels),
                            ("test-labels.i32", test_labels),
                            ("bank.f32", bank), ("queries.f32", queries)]:
            array.tofile(os.path.join(tmp, name))
        out = subprocess.run([args.bench, "--data", tmp, "--json",
                              "--threads", str(args.threads),
                              "--repeats", str(args.repeats),
                              "--singles", str(args.singles)],
                             check=True, capture_output=True, text=True)
        results["C"] = json.loads(out.stdout.strip().splitlines()[-1])
        c_idx = np.fromfile(os.path.join(tmp, "search-indices.i32"),
                            np.int32).reshape(QUERIES, K_SEARCH)

    # FAISS
    def faiss_classify():
        index = faiss.IndexFlatIP(DIM)
        index.add(train)
        sims, idx = index.search(test, K_KNN)
        return weighted_vote(sims, idx, train_labels, test_labels)

    index = faiss.IndexFlatIP(DIM)
    index.add(bank)
    f_classify, f_top1 = median_time(faiss_classify, args.repeats)
    f_search, (_, f_idx) = median_time(lambda: index.search(queries, K_SEARCH),
                                       args.repeats)
    singles = []
    for r in range(args.singles):
        q = queries[r % QUERIES:r % QUERIES + 1]
        t0 = time.perf_counter()
        index.search(q, K_SEARCH)
        singles.append(time.perf_counter() - t0)
    results["FAISS"] = {"classify_s": f_classify, "classify_top1": f_top1,
                        "search_s": f_search, "single_s": float(np.median(singles))}
    agree = float(np.mean([len(set(a) & set(b)) / K_SEARCH
                           for a, b in zip(c_idx, f_idx)]))
    del index

    if not args.skip_numpy:
        def numpy_classify():
            sims, idx = numpy_topk(test, train, K_KNN)
            return weighted_vote(sims, idx, train_labels, test_labels)
        n_classify, n_top1 = median_time(numpy_classify, args.repeats)
        n_search, _ = median_time(lambda: numpy_topk(queries, bank, K_SEARCH),
                                  args.repeats)
        singles = []
        for r in range(args.singles):
            q = queries[r % QUERIES]
            t0 = time.perf_counter()
            s = bank @ q
            part = np.argpartition(-s, K_SEARCH - 1)[:K_SEARCH]
            part[np.argsort(-s[part], kind="stable")]
            singles.append(time.perf_counter() - t0)
        results["NumPy"] = {"classify_s": n_classify, "classify_top1": n_top1,
                            "search_s": n_search,
                            "single_s": float(np.median(singles))}

    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{os.cpu_count()} cores, {args.threads} threads, medians of "
          f"{args.repeats} (batch cases) and {args.singles} (single query)")
    print(f"C top-10 agrees with FAISS on {100 * agree:.3f}% of neighbours; "
          f"top-1 (random labels) C {results['C']['classify_top1']:.4f} "
          f"FAISS {results['FAISS']['classify_top1']:.4f}")
    rows = [("weighted kNN 10k q vs 60k, k 200 (s)", "classify_s", 1),
            ("top-10, 1k q vs 1M (s)", "search_s", 1),
            ("top-10, 1 q vs 1M (ms)", "single_s", 1e3)]
    names = list(results)
    head = f"| case | " + " | ".join(names) + " | " + " | ".join(
        f"{n} / C" for n in names if n != "C") + " |"
    print(head)
    print("|" + "---|" * (1 + 2 * len(names) - 1))
    for label, key, scale in rows:
        c = results["C"][key]
        cells = [f"{results[n][key] * scale:.3f}" for n in names]
        ratios = [f"{results[n][key] / c:.2f}" for n in names if n != "C"]
        print(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
