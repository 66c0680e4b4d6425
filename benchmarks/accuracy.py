"""Out-of-fold accuracy of the small CPU configs on the 627 real PhysioNet records.

Imports ../shared/data for task 1 and task 2, trains every fold with
configs/cpu_small_task{1,2}.yaml (``data.fold: all``), and prints the out-of-fold metrics
(task 1 F1/accuracy/AUC; task 2 macro/micro F1 with the run's out-of-fold thresholds
and macro AUC). On this 2-core CPU a full run takes hours: --epochs and --folds trade
accuracy for time. Last line: JSON.

    python benchmarks/accuracy.py [--folds 5] [--epochs 5] [--tasks 1 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecgplot.aiwin import read_labels, read_probs  # noqa: E402
from ecgplot.decide import decide  # noqa: E402
from ecgplot.evaluate import evaluate  # noqa: E402
from ecgplot.experiment import load_experiment  # noqa: E402
from ecgplot.infer import load_run  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.physionet import import_physionet  # noqa: E402
from ecgplot.trainer import fit  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--tasks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--out", type=Path, default=ROOT / "output" / "benchmark_accuracy")
    args = p.parse_args()
    setup_logging(args.out / "accuracy.log")
    figures: dict[str, float] = {"folds": args.folds, "epochs": args.epochs}
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks:
            data = Path(tmp) / f"task{task}"
            import_physionet(args.shared, data, task=task)
            cfg = load_experiment(
                ROOT / "configs" / f"cpu_small_task{task}.yaml",
                [
                    f"data.root={data}",
                    f"output_dir={args.out}",
                    f"name=task{task}",
                    "data.fold=all",
                    f"data.n_folds={args.folds}",
                    f"train.epochs={args.epochs}",
                ],
            )
            fit(cfg)
            run = args.out / f"task{task}"
            names, probs = read_probs(run / "oof_probs.csv", task)
            labels = decide(probs, task, load_run(run).thresholds)
            truth = read_labels(data / "trainreference.csv", task)
            result = evaluate(task, truth, names, labels, probs, run / "eval", 1000)
            keys = ("f1", "accuracy", "auc") if task == 1 else ("macro_f1", "micro_f1", "macro_auc")
            for key in keys:
                lo, hi = result["ci95"][key]
                figures[f"task{task}_{key}"] = round(result[key], 4)
                print(
                    f"task {task} out-of-fold {key:9s} {result[key]:.4f} (95% CI {lo:.3f}-{hi:.3f})"
                )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
