"""Render AIWIN MAT records to 640x640 plot images (plus optional STFT images).

python process.py --data dataset/demo --out output/demo/processed --stft
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecgplot.aiwin import BadInputError
from ecgplot.config import apply_overrides, from_dict, to_dict
from ecgplot.experiment import load_experiment
from ecgplot.logs import setup_logging
from ecgplot.process import process_dataset
from ecgplot.render import LAYOUTS, RenderConfig


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--data", required=True, type=Path, help="AIWIN folder: train/, trainreference.csv"
    )
    p.add_argument("--out", required=True, type=Path, help="output folder for images and splits")
    p.add_argument("--task", type=int, choices=(1, 2), help="default: detected from the label file")
    p.add_argument(
        "--config", type=Path, help="experiment YAML whose render section sets the render options"
    )
    p.add_argument("--layout", choices=sorted(LAYOUTS), help="lead layout (overrides the config)")
    p.add_argument("--size", type=int, help="image side in pixels (default 640)")
    p.add_argument("--grid", action="store_true", help="draw the 1 mm / 5 mm ECG paper grid")
    p.add_argument("--stft", action="store_true", help="also write STFT spectrogram images")
    p.add_argument("--workers", type=int, help="parallel processes (default: all cores)")
    p.add_argument("--folds", type=int, default=5, help="number of stratified folds")
    p.add_argument("--seed", type=int, default=42, help="seed of the fold assignment")
    p.add_argument("--skip-bad", action="store_true", help="skip and report bad records")
    p.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="render options, e.g. --set mm_per_mv=10 line_width=2",
    )
    return p.parse_args()


def render_config(args: argparse.Namespace) -> RenderConfig:
    """The YAML's ``render`` section, then command-line options, then ``--set`` pairs."""
    render = to_dict(load_experiment(args.config).render) if args.config else {}
    cli = {"layout": args.layout, "size": args.size, "grid": args.grid or None}
    render.update({k: v for k, v in cli.items() if v is not None})
    return from_dict(RenderConfig, apply_overrides(render, args.set), "render.")


def main() -> int:
    args = parse_args()
    try:
        cfg = render_config(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out.exists() and not args.out.is_dir():
        print(f"error: {args.out}: --out is a file; give a folder", file=sys.stderr)
        return 2
    setup_logging(args.out / "process.log")
    try:
        result = process_dataset(
            args.data,
            args.out,
            cfg,
            task=args.task,
            stft=args.stft,
            workers=args.workers,
            skip_bad=args.skip_bad,
            n_folds=args.folds,
            seed=args.seed,
        )
    except BadInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.bad:
        print(f"{len(result.bad)} bad records skipped, listed in {args.out / 'bad_records.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
