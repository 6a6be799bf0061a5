#!/usr/bin/env python3
"""Reference values for the eval metrics' tests: f1 / macro-f1 / mcc from scikit-learn, Python's
random.Random streams (shuffle, sample, choices) and the harness's bootstrap stderr built on them.

Run with Debian's Python and scikit-learn (apt-get install -y python3-sklearn):
    /usr/bin/python3 tools/eval/sklearn_reference.py > test/eval/goldens/sklearn-reference.json
It writes JSON to stdout; the tests in test/eval/metrics.test.ts compare against it.
"""
import json
import math
import random
import sys
import warnings

import sklearn
from sklearn.metrics import f1_score, matthews_corrcoef

warnings.simplefilter("ignore")  # sklearn's UndefinedMetricWarning: the value is what we record


def labels(seed, n, k, p_first=None):
    rnd = random.Random(seed)
    if p_first is None:
        return [rnd.randrange(k) for _ in range(n)]
    return [0 if rnd.random() < p_first else rnd.randrange(1, k) for _ in range(n)]


def outcome(fn):
    try:
        return {"value": float(fn())}
    except Exception as e:  # an error is a reference too (e.g. empty input)
        return {"error": type(e).__name__}


def sample_stddev(xs):
    mu = sum(xs) / len(xs)
    return math.sqrt(sum((x - mu) ** 2 for x in xs) / (len(xs) - 1))


def harness_bootstrap(f, xs, iters):
    # The harness's bootstrap_stderr: chunks of min(1000, iters), chunk i seeded with Random(i),
    # each resample rnd.choices(xs, k=len(xs)), then the sample std of all resampled values.
    chunk = min(1000, iters)
    res = []
    for i in range(iters // chunk):
        rnd = random.Random()
        rnd.seed(i)
        for _ in range(chunk):
            res.append(f(rnd.choices(xs, k=len(xs))))
    return sample_stddev(res)


def main():
    binary = []
    for seed, n, skew in [(1, 40, None), (2, 408, None), (3, 25, 0.8), (4, 7, None), (5, 1000, 0.3)]:
        g = labels(seed, n, 2, skew)
        p = labels(seed + 100, n, 2, skew)
        binary.append({"name": f"random seed {seed} n {n}", "golds": g, "preds": p,
                       "f1": outcome(lambda: f1_score(g, p)), "mcc": outcome(lambda: matthews_corrcoef(g, p))})
    edge = [
        ("perfect", [0, 1, 1, 0], [0, 1, 1, 0]),
        ("all wrong", [0, 1, 1, 0], [1, 0, 0, 1]),
        ("one class only in golds and preds (all 0)", [0, 0, 0, 0], [0, 0, 0, 0]),
        ("one class only in golds and preds (all 1)", [1, 1, 1], [1, 1, 1]),
        ("predictions all one class", [0, 1, 1, 0, 1], [1, 1, 1, 1, 1]),
        ("predictions never positive", [0, 1, 1, 0, 1], [0, 0, 0, 0, 0]),
        ("single item", [1], [0]),
        ("empty", [], []),
    ]
    for name, g, p in edge:
        binary.append({"name": name, "golds": g, "preds": p,
                       "f1": outcome(lambda: f1_score(g, p)), "mcc": outcome(lambda: matthews_corrcoef(g, p))})

    three_class = []
    for seed, n in [(11, 56), (12, 30), (13, 9)]:
        g = labels(seed, n, 3)
        p = labels(seed + 100, n, 3)
        three_class.append({"name": f"random seed {seed} n {n}", "golds": g, "preds": p,
                            "macro_f1_one_vs_rest": sum(f1_score([x == c for x in g], [y == c for y in p]) for c in range(3)) / 3,
                            "mcc": matthews_corrcoef(g, p)})
    # CB with a class never predicted nor present: its binary F1 is 0 and still counts in the mean.
    g, p = [0, 1, 0, 1, 0], [0, 1, 1, 1, 0]
    three_class.append({"name": "class 2 absent", "golds": g, "preds": p,
                        "macro_f1_one_vs_rest": sum(f1_score([x == c for x in g], [y == c for y in p]) for c in range(3)) / 3,
                        "mcc": matthews_corrcoef(g, p)})

    rng = {}
    r = random.Random(42)
    docs = list(range(30))
    r.shuffle(docs)
    rng["shuffle_42_range30"] = docs
    rng["then_sample_range30_k3"] = r.sample(list(range(30)), 3)
    rng["then_sample_range100_k6"] = r.sample(list(range(100)), 6)
    r = random.Random(0)
    rng["random_0_first5"] = [r.random() for _ in range(5)]
    r = random.Random(7)
    rng["choices_7_range10_k12"] = r.choices(list(range(10)), k=12)
    r = random.Random(2 ** 40 + 5)
    rng["random_2pow40plus5_first3"] = [r.random() for _ in range(3)]

    g = labels(21, 60, 2)
    p = labels(22, 60, 2)
    items = list(zip(g, p))
    f1_items = lambda it: f1_score([a for a, _ in it], [b for _, b in it])
    mcc_items = lambda it: matthews_corrcoef([a for a, _ in it], [b for _, b in it])
    lls = [round(-random.Random(23 + i).random() * 5, 6) for i in range(50)]
    ppl = lambda xs: math.exp(-sum(xs) / len(xs))
    boot = {"items": [[a, b] for a, b in items], "iters": 2000,
            "f1_stderr": harness_bootstrap(f1_items, items, 2000),
            "mcc_stderr": harness_bootstrap(mcc_items, items, 2000),
            "lls": lls, "ppl_iters": 3000, "ppl_stderr": harness_bootstrap(ppl, lls, 3000)}

    json.dump({"generated_by": "tools/eval/sklearn_reference.py", "sklearn": sklearn.__version__,
               "python": sys.version.split()[0], "binary": binary, "three_class": three_class,
               "python_random": rng, "bootstrap": boot}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
