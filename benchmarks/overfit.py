"""The image model's fit on task 1: what each regularising lever does out-of-fold.

Trains configs/cpu_small_task1.yaml (the CPU recipe, print-aware) on the 627 shared
records, 5 folds, once as it is and once per lever (one override each: stronger weight
decay, more dropout, fewer epochs, label smoothing, mixup of the cached maps), on the
same folds and cached trunk maps, and prints for each: out-of-fold AUC with its bootstrap
interval, the lever minus the recipe paired over the same records, and the folds' mean
last-epoch train and validation losses (the fit: how far the train loss falls below the
validation loss; label smoothing raises both floors and mixup the train loss's, so theirs
are not comparable). A run whose folder already holds its finished out-of-fold
predictions for the same config is reused (the recipe's folder is the one
benchmarks/accuracy.py writes). Last line: JSON.

    python benchmarks/overfit.py [--out output/benchmark_accuracy] [--levers ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from accuracy import paired_line, score  # noqa: E402

from ecgplot.aiwin import read_labels, read_probs_frame  # noqa: E402
from ecgplot.experiment import finished_run, load_experiment  # noqa: E402
from ecgplot.infer import load_run  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.physionet import import_physionet  # noqa: E402
from ecgplot.trainer import fit  # noqa: E402

# lever -> overrides of the recipe (its values: weight decay 0.01, dropout 0.5, 20
# epochs, no label smoothing, no mixup)
LEVERS = {
    "recipe": [],
    "weight_decay_0.1": ["optim.weight_decay=0.1"],
    "weight_decay_0.5": ["optim.weight_decay=0.5"],
    "dropout_0.8": ["model.dropout=0.8"],
    "epochs_10": ["train.epochs=10"],
    "label_smoothing_0.1": ["loss.label_smoothing=0.1"],
    "mixup_0.4": ["train.mixup=0.4"],
}
RUN_NAMES = {"recipe": "task1_image"}  # shared with benchmarks/accuracy.py


def last_losses(run_dir: Path) -> tuple[float, float]:
    """Mean over the folds of the last epoch's train and validation loss."""
    last = pd.DataFrame(
        [pd.read_csv(f).iloc[-1] for f in sorted(run_dir.glob("fold*/metrics.csv"))]
    )
    return float(last["train_loss"].mean()), float(last["val_loss"].mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--levers", nargs="+", default=list(LEVERS), choices=list(LEVERS))
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--out", type=Path, default=ROOT / "output" / "benchmark_accuracy")
    p.add_argument("--cache", type=Path, default=ROOT / "output" / "cache")
    args = p.parse_args()
    args.out = args.out.resolve()
    setup_logging(args.out / "overfit.log")
    start = time.perf_counter()
    data = args.out / "data" / "task1"
    if not (data / "trainreference.csv").is_file():
        import_physionet(args.shared, data, task=1)
    truth = read_labels(data / "trainreference.csv", 1)
    common = [
        f"data.root={data}",
        f"output_dir={args.out}",
        "data.fold=all",
        f"data.n_folds={args.folds}",
        f"train.cache_dir={args.cache.resolve()}",
    ]
    levers = ["recipe", *(lever for lever in args.levers if lever != "recipe")]
    figures: dict[str, object] = {"folds": args.folds}
    oof, lines = {}, []
    for lever in levers:
        name = RUN_NAMES.get(lever, f"task1_image_{lever}")
        overrides = [*common, f"name={name}", *LEVERS[lever]]
        cfg = load_experiment(ROOT / "configs" / "cpu_small_task1.yaml", overrides)
        if not finished_run(cfg):
            t0 = time.perf_counter()
            fit(cfg)
            figures[f"{lever}_minutes"] = round((time.perf_counter() - t0) / 60, 1)
        csv = cfg.run_dir / "oof_probs.csv"
        result = score(
            1,
            truth,
            csv,
            load_run(cfg.run_dir).thresholds,
            args.out / f"eval_overfit_{lever}",
            args.bootstrap,
        )
        oof[lever] = read_probs_frame(csv, 1)
        train_loss, val_loss = last_losses(cfg.run_dir)
        lo, hi = result["ci95"]["auc"]
        figures[f"{lever}_auc"] = round(result["auc"], 4)
        figures[f"{lever}_auc_ci95"] = [round(lo, 3), round(hi, 3)]
        figures[f"{lever}_train_loss"] = round(train_loss, 3)
        figures[f"{lever}_val_loss"] = round(val_loss, 3)
        line = (
            f"{lever:20s} AUC {result['auc']:.3f} ({lo:.3f}-{hi:.3f}), last-epoch "
            f"train loss {train_loss:.3f}, val loss {val_loss:.3f}"
        )
        if lever != "recipe":
            paired, figures[f"{lever}_minus_recipe"] = paired_line(
                1, truth, oof[lever], oof["recipe"], lever, "recipe", args.bootstrap
            )
            line += f"; {paired.split(': ', 1)[1]}"
        lines.append(line)
        print(line, flush=True)
    figures["minutes"] = round((time.perf_counter() - start) / 60, 1)
    print(f"\ntask 1, out-of-fold over {args.folds} folds ({figures['minutes']} min):")
    print("\n".join(lines))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
