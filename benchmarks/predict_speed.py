"""Prediction speed from MAT records to answer.csv, for a 5-fold run of the CPU recipe.

In one run on the same records and the same run folder, records/s of predict_folder +
write_prediction for: ``shared`` (what predict.py does: the frozen trunk's maps once per
record through Paddle Inference, then each fold's head), ``per_fold_eager`` (the
baseline: every fold's whole dygraph model), and the exported folds on Paddle Inference
(oneDNN) and ONNX Runtime (each fold's whole graph); ratios against the baseline. Without
--run, a 5-fold run of cpu_small_task2 is made first (one training step a fold: speed
does not depend on the weights; the ImageNet trunk is loaded as training loads it, so the
folds share it, as real runs' folds do: tools/prepare_weights.sh). Last line: JSON.

    python benchmarks/predict_speed.py [--run output/cpu_small_task2] [--records 40]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecgplot.experiment import load_experiment  # noqa: E402
from ecgplot.export import export_run  # noqa: E402
from ecgplot.infer import load_run, predict_folder, write_prediction  # noqa: E402
from ecgplot.physionet import import_physionet  # noqa: E402
from ecgplot.trainer import fit  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--run", type=Path, help="trained run (default: make a one-step run)")
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--records", type=int, default=40, help="records to predict")
    p.add_argument("--repeats", type=int, default=1, help="timed passes per backend (best kept)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        import_physionet(args.shared, data, task=2)
        run_dir = args.run
        if run_dir is None:
            cfg = load_experiment(
                ROOT / "configs" / "cpu_small_task2.yaml",
                [
                    f"data.root={data}",
                    f"output_dir={tmp}",
                    "name=speed",
                    "train.epochs=1",
                    "train.max_steps_per_epoch=1",
                    "data.limit=60",
                    "data.fold=all",
                    f"train.cache_dir={tmp / 'cache'}",
                ],
            )
            fit(cfg)
            run_dir = tmp / "speed"
        else:
            run_dir = Path(
                shutil.copytree(
                    run_dir, tmp / "run", ignore=shutil.ignore_patterns("export", "visualdl")
                )
            )
        export_run(run_dir)
        run = load_run(run_dir)
        folder = tmp / "records"
        folder.mkdir()
        for mat in sorted((data / "train").glob("*.mat"))[: args.records]:
            shutil.copy(mat, folder / mat.name)
        figures: dict[str, float] = {
            "records": args.records,
            "image_size": run.cfg.render.size,
            "folds": len(run.checkpoints),
        }
        baseline = replace(
            run, cfg=replace(run.cfg, train=replace(run.cfg.train, cache_trunk=False))
        )
        ways = {
            "shared": (run, "dygraph"),
            "per_fold_eager": (baseline, "dygraph"),
            "paddle": (run, "paddle"),
            "onnx": (run, "onnx"),
        }
        for way, (which, backend) in ways.items():
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                pred = predict_folder(which, folder, backend=backend)
                write_prediction(
                    pred, run.cfg.data.task, tmp / f"{way}.csv", tmp / f"{way}_probs.csv"
                )
                best = min(best, time.perf_counter() - start)
            figures[f"{way}_records_per_s"] = round(args.records / best, 2)
            print(f"{way:15s} {args.records / best:7.2f} records/s ({best:.1f} s)")
        for way in ("shared", "paddle", "onnx"):
            ratio = figures[f"{way}_records_per_s"] / figures["per_fold_eager_records_per_s"]
            figures[f"{way}_vs_per_fold_eager"] = round(ratio, 2)
            print(f"{way} / per-fold eager: {ratio:.2f}x")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
