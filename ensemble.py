"""Fuse several runs (and external probs files) into one answer.csv.

    python ensemble.py --runs output/A output/B [--probs OOF.csv TEST.csv ...] \
        [--data DIR | --images DIR_OF_PICTURES] [--labels DATA/trainreference.csv] \
        [--method weights|class_weights|mean|stack] --out answer.csv

Each run must be a k-fold run (``data.fold=all``: ``oof_probs.csv``); its test
probabilities come from ``--data`` (predicted here) or the run's ``probs.csv`` (from
predict.py). ``--probs`` adds an external model: its out-of-fold probs.csv and test
probs.csv, same format. The fusion is fitted on the out-of-fold probabilities; thresholds
and label rules are chosen on the fused out-of-fold probabilities. Writes answer.csv,
probs.csv, oof_probs.csv and ensemble.json (weights, out-of-fold metrics) beside --out.
``--fit-pictures`` fits the fusion and thresholds on the runs' out-of-fold probabilities
of pictures of their records too (``oof_picture_probs.csv``, from ``predict.py --oof``),
so that they hold on pictures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecgplot.aiwin import BadInputError
from ecgplot.logs import setup_logging


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", nargs="*", type=Path, default=[], help="k-fold run folders")
    p.add_argument(
        "--probs",
        nargs=2,
        action="append",
        type=Path,
        default=[],
        metavar=("OOF_CSV", "TEST_CSV"),
        help="an external model's out-of-fold and test probs.csv (repeatable)",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="test MAT records: the runs predict them here")
    source.add_argument(
        "--images",
        type=Path,
        help="pictures of prints: digitised, then the runs predict them here (a picture "
        "that is not a readable print stops the run, named)",
    )
    p.add_argument(
        "--fit-pictures",
        action="store_true",
        help="fit the fusion and thresholds on the runs' out-of-fold probabilities of "
        "pictures of their records (oof_picture_probs.csv from predict.py --oof) as well "
        "as of MAT records, so they hold on pictures",
    )
    p.add_argument("--labels", type=Path, help="trainreference.csv (default: first run's data)")
    p.add_argument(
        "--method", choices=("weights", "class_weights", "mean", "stack"), default="weights"
    )
    p.add_argument("--out", type=Path, required=True, help="answer.csv to write")
    args = p.parse_args()
    if len(args.runs) + len(args.probs) < 2:
        p.error("give at least two members (--runs and/or --probs)")
    if args.out.is_dir():
        p.error(f"--out {args.out} is a directory; name the answer.csv file")
    setup_logging(args.out.parent / "ensemble.log")
    from ecgplot.aiwin import read_labels
    from ecgplot.ensemble import ensemble, file_member, run_member, table_task, write_ensemble

    try:
        digitized = None
        if args.images:  # read every picture once for all runs
            from ecgplot.digitize.folder import digitize_pictures

            digitized = list(digitize_pictures(args.images))
        members = [
            run_member(r, args.data, args.images, digitized, args.fit_pictures) for r in args.runs
        ]
        members += [file_member(oof, test) for oof, test in args.probs]
        labels_file = args.labels
        if labels_file is None:
            if not args.runs:
                p.error("--labels is needed when no run is given")
            from ecgplot.infer import load_run

            labels_file = Path(load_run(args.runs[0]).cfg.data.root) / "trainreference.csv"
        labels = read_labels(labels_file, table_task(members[0].oof))
        result = ensemble(members, labels, args.method)
    except (BadInputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_ensemble(result, args.out)
    for label, metrics in result.member_metrics.items():
        print(f"{label}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    print(
        "fused (cross-fitted out-of-fold): "
        + ", ".join(f"{k} {v:.4f}" for k, v in result.oof_metrics.items())
    )
    for label, metrics in result.member_picture_metrics.items():
        print(f"{label} on pictures: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    if result.picture_metrics:
        print(
            f"fused on {len(result.picture_names)} pictures (cross-fitted out-of-fold): "
            + ", ".join(f"{k} {v:.4f}" for k, v in result.picture_metrics.items())
        )
    if result.picture_sets is not None:
        print("by set of pictures (out-of-fold):")
        print(result.picture_sets.round(4).to_string())
    print(f"fusion: {result.fusion.describe()}")
    if result.test is None:
        print("no test probabilities: wrote only the fused out-of-fold probabilities")
    else:
        print(f"wrote {args.out} ({len(result.test_names)} records) and probs.csv beside it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
