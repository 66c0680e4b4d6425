"""Predict MAT records with a trained run and write the competition's answer.csv.

    python predict.py --run output/cpu_small_task2 --data dataset/aiwin_task2/test
    python predict.py --run output/EXP --data DIR --out answer.csv [--tta 2] [--hr-rule]
        [--backend dygraph|paddle|onnx] [--gradcam NAME ...]
    python predict.py --run output/EXP --images DIR_OF_PICTURES [--skip-bad] [--out ...]
        (pictures of 3x4, 6x2 or 12x1 prints are digitised first, then predicted)
    python predict.py --run output/EXP --images PRINTS_OF_TRAINING_RECORDS --oof
        (out-of-fold probabilities of pictures named NAME or NAME@TAG after the run's
        records, added to RUN/oof_picture_probs.csv for ensemble.py --fit-pictures)

Renders each record on the fly with the run's own settings, averages the fold models of
a k-fold run, applies the run's thresholds and the label rules, and writes answer.csv
(task 1: header name,tag; task 2: NAME,l1[,l2...]) plus probs.csv beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecgplot.aiwin import BadInputError
from ecgplot.logs import setup_logging


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--run", required=True, type=Path, help="run folder written by train.py")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="folder of MAT records (default: the run's data)")
    source.add_argument(
        "--images",
        type=Path,
        help="folder of pictures of 12-lead prints (PNG/JPEG/TIFF/BMP/WEBP/GIF/HEIC, PDF pages: "
        "scans, photos, exports, turned any way), "
        "named by file stem; each is digitised (as digitize.py does) and predicted by "
        "any run kind; digitize_report.csv is written beside the answer",
    )
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="list bad MAT records (or unreadable pictures) in bad_records.csv and answer "
        "the others, instead of stopping at the first (an answer missing a record is a "
        "wrong submission)",
    )
    p.add_argument("--out", type=Path, help="answer.csv path (default: RUN/answer.csv)")
    p.add_argument("--tta", type=int, default=0, help="extra time-shifted views to average")
    p.add_argument(
        "--backend",
        choices=("dygraph", "paddle", "onnx"),
        default="dygraph",
        help="paddle/onnx: the models written by export.py (Paddle Inference with oneDNN "
        "on the CPU, or ONNX Runtime)",
    )
    p.add_argument(
        "--gradcam",
        nargs="*",
        default=[],
        metavar="NAME",
        help="also save Grad-CAM overlays of these records to OUT_DIR/gradcam/",
    )
    p.add_argument(
        "--hr-rule",
        action="store_true",
        help="task 2: set/clear brady/tachycardia from the measured heart rate",
    )
    p.add_argument(
        "--oof",
        action="store_true",
        help="with --images of prints of the run's own records (NAME or NAME@TAG): add "
        "their out-of-fold probabilities to RUN/oof_picture_probs.csv (each by the fold "
        "that did not train on its record) for ensemble.py --fit-pictures",
    )
    args = p.parse_args()
    if args.oof and not args.images:
        p.error("--oof needs --images (pictures of the run's own records)")
    if args.tta < 0:
        p.error(f"--tta must be 0 or more, got {args.tta}")
    if args.images and (args.tta or args.gradcam):
        p.error("--images takes no --tta or --gradcam")
    out = args.out or args.run / "answer.csv"
    if out.is_dir():
        p.error(f"--out {out} is a directory; name the answer.csv file")
    setup_logging(out.parent / "predict.log")
    from ecgplot.infer import (
        find_records,
        load_run,
        predict_folder,
        predict_pictures,
        write_picture_oof,
        write_prediction,
    )
    from ecgplot.kinds import get_kind

    try:
        run = load_run(args.run)
        if args.oof:
            path, frame, _ = write_picture_oof(run, args.images, args.skip_bad, args.backend)
            print(f"wrote {len(frame)} pictures' out-of-fold probabilities to {path}")
            return 0
        if args.images:
            pred = predict_pictures(
                run, args.images, args.skip_bad, backend=args.backend, heart_rate_rule=args.hr_rule
            )
            write_prediction(pred, run.cfg.data.task, out, out.with_name("probs.csv"))
            return _report(pred, out, "pictures")
        data = args.data or Path(run.cfg.data.root)
        if args.gradcam and not get_kind(run.cfg.model.kind).gradcam:
            raise BadInputError(args.run, "--gradcam needs an image-model run")
        unknown = sorted(set(args.gradcam) - {r.stem for r in find_records(data)})
        if unknown:
            raise BadInputError(data, f"--gradcam names records not here: {', '.join(unknown)}")
        pred = predict_folder(
            run,
            data,
            tta=args.tta,
            heart_rate_rule=args.hr_rule,
            backend=args.backend,
            skip_bad=args.skip_bad,
        )
    except (BadInputError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_prediction(pred, run.cfg.data.task, out, out.with_name("probs.csv"))
    if args.gradcam:
        from ecgplot.gradcam import save_gradcams

        for path in save_gradcams(run, data, args.gradcam, out.parent / "gradcam"):
            print(f"Grad-CAM: {path}")
    return _report(pred, out, "records")


def _report(pred, out: Path, what: str) -> int:
    print(f"wrote {out} ({len(pred.names)} {what}) and {out.with_name('probs.csv')}")
    if pred.bad:
        print(
            f"warning: {len(pred.bad)} bad {what} not predicted, listed in "
            f"{out.with_name('bad_records.csv')}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
