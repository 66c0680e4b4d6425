"""Score predictions against a labels CSV (AIWIN format) with bootstrap 95% intervals.

    python evaluate.py --task 2 --labels DATA/trainreference.csv --answer answer.csv \
        [--probs probs.csv] [--out output/eval]

Task 1: F1, accuracy, AUC and a confusion matrix; task 2: per-class precision, recall,
F1 and AUC, macro/micro F1, macro AUC and a per-class chart; ROC/PR curves from
probabilities. Without --answer, labels are decided from --probs at 0.5 with the label
rules. Writes metrics.json and the PNGs to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ecgplot.aiwin import BadInputError, read_labels, read_probs
from ecgplot.atomic import atomic_write
from ecgplot.decide import decide
from ecgplot.evaluate import align, evaluate


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--task", type=int, choices=(1, 2), required=True)
    p.add_argument("--labels", type=Path, required=True, help="true labels (trainreference.csv)")
    p.add_argument("--answer", type=Path, help="predicted labels in the answer.csv format")
    p.add_argument("--probs", type=Path, help="probs.csv from predict.py (AUC, curves)")
    p.add_argument("--out", type=Path, default=Path("output/eval"))
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (0: none)")
    args = p.parse_args()
    if not args.answer and not args.probs:
        p.error("give --answer, --probs or both")
    if args.bootstrap < 0:
        p.error(f"--bootstrap must be 0 or more, got {args.bootstrap}")
    if args.out.exists() and not args.out.is_dir():
        p.error(f"--out {args.out} is a file; give a folder for metrics.json and the plots")
    try:
        truth = read_labels(args.labels, args.task)
        probs = None
        if args.probs:
            names, probs = read_probs(args.probs, args.task)
        if args.answer:
            answer = read_labels(args.answer, args.task)
            if probs is not None:
                order = {n: i for i, n in enumerate(names)}
            names = align(truth, list(answer), args.answer)
            labels = [answer[n] for n in names]
            if probs is not None:
                missing = sorted(set(names) - set(order))
                if missing:
                    raise BadInputError(
                        args.probs,
                        f"no probabilities for {len(missing)} answered records, e.g. {missing[0]}",
                    )
                probs = probs[[order[n] for n in names]]
        else:
            align(truth, names, args.probs)
            labels = decide(probs, args.task)
    except (BadInputError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = evaluate(args.task, truth, names, labels, probs, args.out, args.bootstrap)
    with atomic_write(args.out / "metrics.json") as fh:
        json.dump(result, fh, indent=2)
    for key, value in result.items():
        if isinstance(value, float):
            lo, hi = result["ci95"].get(key, (float("nan"),) * 2)
            print(f"{key:10s} {value:.4f}  (95% CI {lo:.4f}-{hi:.4f})")
    print(f"n = {result['n']}; details and plots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
